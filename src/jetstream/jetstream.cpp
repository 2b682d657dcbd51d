#include "jetstream/jetstream.h"

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace armored::jetstream {

namespace {

constexpr std::string_view kComponent = "jetstream";

Error error(std::string_view code, std::string message, ErrorKind kind = ErrorKind::kFailed) {
  return Error{std::move(message), kComponent, code, kind};
}

std::string status_text(natsStatus s, jsErrCode js_code = static_cast<jsErrCode>(0)) {
  std::string out = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  if (const char* detail = nats_GetLastError(&last); detail && *detail && last == s) out += std::string(": ") + detail;
  if (js_code != 0) out += " (JetStream error " + std::to_string(static_cast<int>(js_code)) + ")";
  return out;
}

std::int64_t ns(std::chrono::nanoseconds d) { return d.count(); }

// Names JetStream accepts for streams and consumers, and subject tokens.
bool usable_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool usable_subject(std::string_view s) {
  if (s.empty() || s.size() > 128 || s.front() == '.' || s.back() == '.') return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return s.find("..") == std::string_view::npos;
}

// libnats keeps library-wide threads and frees some of a connection's
// memory on them after it is destroyed. Once the last connection of this
// process is gone, the library is closed and waited for, so nothing of it
// outlives its users (and the leak checker sees nothing left).
std::mutex library_mu;
int library_users = 0;

// The connection both roles share: options, reconnecting forever, counters.
class Connection {
 public:
  Connection() {
    std::lock_guard lk(library_mu);
    ++library_users;
  }
  ~Connection() {
    if (js_) jsCtx_Destroy(js_);
    if (nc_) {
      natsConnection_Close(nc_);  // the closed callback frees state_
      natsConnection_Destroy(nc_);
    } else {
      delete state_;  // never connected: no callback will come
    }
    if (opts_) natsOptions_Destroy(opts_);
    std::lock_guard lk(library_mu);
    if (--library_users == 0) (void)nats_CloseAndWait(2000);
  }

  Status open(const Options& o, const jsOptions* js_options) {
    if (auto s = natsOptions_Create(&opts_); s != NATS_OK) return unexpected(error("options", status_text(s)));
    std::vector<const char*> servers;
    for (const auto& s : o.servers) servers.push_back(s.c_str());
    natsStatus s = natsOptions_SetServers(opts_, servers.data(), static_cast<int>(servers.size()));
    if (s == NATS_OK && !o.name.empty()) s = natsOptions_SetName(opts_, o.name.c_str());
    // Never give up on the cluster: a front or worker without it can do
    // nothing, and its supervisor would only start it again.
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts_, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts_, 250);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts_, 2000);
    // A server that stops answering (SIGSTOP, a cut cable) is noticed
    // within about 3 s, and the client moves to another node.
    if (s == NATS_OK) s = natsOptions_SetPingInterval(opts_, 1000);
    if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts_, 2);
    // The callbacks get `state_`, not `this`: libnats may deliver the last
    // of them (disconnected, closed) on its own thread after this object is
    // gone, so the state lives until the closed callback, always the last.
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts_, &Connection::on_disconnected, state_);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts_, &Connection::on_reconnected, state_);
    if (s == NATS_OK) s = natsOptions_SetClosedCB(opts_, &Connection::on_closed, state_);
    if (s == NATS_OK && !o.ca_file.empty()) {
      s = natsOptions_SetSecure(opts_, true);
      if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(opts_, o.ca_file.c_str());
      if (s == NATS_OK && !o.cert_file.empty()) {
        s = natsOptions_LoadCertificatesChain(opts_, o.cert_file.c_str(), o.key_file.c_str());
      }
    }
    if (s != NATS_OK) return unexpected(error("options", status_text(s), ErrorKind::kBadInput));
    // The first connection: retried for a while, since the cluster may be
    // starting with us.
    patience_ = o.connect_patience;
    const auto give_up = std::chrono::steady_clock::now() + patience_;
    while ((s = natsConnection_Connect(&nc_, opts_)) != NATS_OK) {
      if (std::chrono::steady_clock::now() >= give_up) {
        return unexpected(error("unreachable", "no NATS server answered at " + o.servers.front() +
                                                   (o.servers.size() > 1 ? " or the others" : "") + ": " +
                                                   status_text(s)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    state_->connected = true;
    jsOptions jo;
    jsOptions_Init(&jo);
    if (js_options) jo = *js_options;
    jo.Wait = o.request_timeout.count();
    if (s = natsConnection_JetStream(&js_, nc_, &jo); s != NATS_OK) {
      return unexpected(error("jetstream", status_text(s)));
    }
    return {};
  }

  // Creates the stream, or brings an existing one to these settings.
  // Retried while the cluster elects its leaders.
  Status ensure_stream(const Options& o) {
    const std::string subjects = o.subject + ".>";
    const char* subject_list[] = {subjects.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = o.stream.c_str();
    cfg.Subjects = subject_list;
    cfg.SubjectsLen = 1;
    // Work queue: a message is gone once a worker acknowledges it, so the
    // stream holds only what is not yet stored. Full: publishes fail and
    // fronts stop acknowledging gateways, which keep their spools.
    cfg.Retention = js_WorkQueuePolicy;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = o.replicas;
    cfg.Duplicates = ns(o.duplicate_window);
    cfg.MaxBytes = o.max_bytes;
    cfg.Discard = js_DiscardNew;
    return retry_api("stream", [&](jsErrCode* jerr) {
      jsStreamInfo* si = nullptr;
      natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, jerr);
      if (s != NATS_OK && *jerr == JSStreamNameExistErr) {
        *jerr = static_cast<jsErrCode>(0);
        s = js_UpdateStream(&si, js_, &cfg, nullptr, jerr);
      }
      if (si) jsStreamInfo_Destroy(si);
      return s;
    });
  }

  template <class F>
  Status retry_api(std::string_view what, F call) {
    const auto give_up = std::chrono::steady_clock::now() + patience_;
    for (;;) {
      jsErrCode jerr = static_cast<jsErrCode>(0);
      const natsStatus s = call(&jerr);
      if (s == NATS_OK) return {};
      if (std::chrono::steady_clock::now() >= give_up) {
        return unexpected(error(what == "stream" ? "stream" : "consumer",
                                std::string("cannot set up the ") + std::string(what) + ": " + status_text(s, jerr)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }

  ConnectionStats stats() const {
    ConnectionStats out;
    out.connected = natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
    out.reconnects = state_->reconnects.load();
    char url[256] = {};
    if (natsConnection_GetConnectedUrl(nc_, url, sizeof url) == NATS_OK) out.server = url;
    return out;
  }

  jsCtx* js() const { return js_; }
  natsConnection* nats() const { return nc_; }

 private:
  struct State {
    std::atomic<bool> connected{false};
    std::atomic<std::uint64_t> reconnects{0};
  };
  static void on_disconnected(natsConnection*, void* state) { static_cast<State*>(state)->connected = false; }
  static void on_reconnected(natsConnection*, void* state) {
    auto* st = static_cast<State*>(state);
    st->connected = true;
    ++st->reconnects;
  }
  static void on_closed(natsConnection*, void* state) { delete static_cast<State*>(state); }

  natsOptions* opts_ = nullptr;
  std::chrono::milliseconds patience_{30000};
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  State* state_ = new State;  // freed by on_closed (or the destructor, if never connected)
};

// --- Publisher ---------------------------------------------------------------

class NatsPublisher final : public Publisher {
 public:
  explicit NatsPublisher(Options o) : options_(std::move(o)) {}

  ~NatsPublisher() override {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (reaper_.joinable()) reaper_.join();
    conn_.reset();  // no handler runs after this
    // Whatever is still pending was never confirmed: its PUBLISH was never
    // acknowledged, so its sender sends it again.
  }

  Status start() {
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.AckHandler = &NatsPublisher::on_ack;
    jo.PublishAsync.AckHandlerClosure = this;
    jo.PublishAsync.MaxPending = kMaxPending;
    // Never block the caller's event loop: refused at once when full.
    jo.PublishAsync.StallWait = 1;
    conn_ = std::make_unique<Connection>();
    ARMORED_TRY(conn_->open(options_, &jo));
    ARMORED_TRY(conn_->ensure_stream(options_));
    reaper_ = std::thread([this] { reap(); });
    return {};
  }

  Status publish(std::string_view subject_suffix, std::string_view msg_id, const std::vector<Header>& headers,
                 ByteSpan data, Done done) override {
    const std::string subject = options_.subject + "." + std::string(subject_suffix);
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, reinterpret_cast<const char*>(data.data()),
                                  static_cast<int>(data.size()));
    for (const auto& [k, v] : headers) {
      if (s == NATS_OK) s = natsMsgHeader_Set(msg, k.c_str(), v.c_str());
    }
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      return unexpected(error("publish", status_text(s)));
    }
    const std::string id(msg_id);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = options_.request_timeout.count();
    {
      std::lock_guard lk(mu_);
      if (pending_.size() >= kMaxPending) {
        natsMsg_Destroy(msg);
        ++failures_;
        return unexpected(error("busy", std::to_string(pending_.size()) + " publishes waiting for JetStream"));
      }
      // Entered before the publish: the ack may come back before it returns.
      pending_.emplace(msg, Pending{std::move(done), std::chrono::steady_clock::now() + options_.request_timeout +
                                                         std::chrono::seconds(1)});
    }
    natsMsg* handed = msg;
    s = js_PublishMsgAsync(conn_->js(), &handed, &po);
    if (s != NATS_OK) {
      {
        std::lock_guard lk(mu_);
        pending_.erase(msg);
        ++failures_;
      }
      natsMsg_Destroy(handed);  // still ours when the library did not take it
      return unexpected(error("publish", status_text(s)));
    }
    return {};
  }

  ConnectionStats stats() const override {
    ConnectionStats out = conn_->stats();
    std::lock_guard lk(mu_);
    out.published = published_;
    out.publish_failures = failures_;
    return out;
  }

 private:
  static constexpr std::size_t kMaxPending = 16384;
  struct Pending {
    Done done;
    std::chrono::steady_clock::time_point deadline;
  };

  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<NatsPublisher*>(closure);
    Done done;
    {
      std::lock_guard lk(self->mu_);
      auto it = self->pending_.find(msg);
      if (it != self->pending_.end()) {
        done = std::move(it->second.done);
        self->pending_.erase(it);
        if (pa) ++self->published_;
        else ++self->failures_;
      }
    }
    natsMsg_Destroy(msg);
    if (!done) return;  // given up already by the reaper
    if (pa) {
      done({});
    } else {
      const std::string why = pae ? status_text(pae->Err, pae->ErrCode) + (pae->ErrText ? std::string(" ") + pae->ErrText : "")
                                  : std::string("no acknowledgement");
      done(unexpected(error("not_stored", "JetStream did not store the message: " + why)));
    }
  }

  // A publish whose acknowledgement never comes (the server died after
  // taking it) is reported failed at its deadline, so the caller retries
  // it (the same id: JetStream keeps one copy).
  void reap() {
    std::unique_lock lk(mu_);
    while (!stopping_) {
      cv_.wait_for(lk, std::chrono::milliseconds(250));
      const auto now = std::chrono::steady_clock::now();
      std::vector<Done> expired;
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline <= now) {
          expired.push_back(std::move(it->second.done));
          it = pending_.erase(it);
          ++failures_;
        } else {
          ++it;
        }
      }
      if (expired.empty()) continue;
      lk.unlock();
      for (auto& d : expired) d(unexpected(error("timeout", "no acknowledgement from JetStream in time")));
      lk.lock();
    }
  }

  Options options_;
  std::unique_ptr<Connection> conn_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<natsMsg*, Pending> pending_;
  std::uint64_t published_ = 0, failures_ = 0;
  std::thread reaper_;
};

// --- Consumer ----------------------------------------------------------------

class NatsDelivery final : public Delivery {
 public:
  explicit NatsDelivery(natsMsg* msg) : msg_(msg) {
    if (natsMsg_GetMetaData(&meta_, msg_) != NATS_OK) meta_ = nullptr;
  }
  ~NatsDelivery() override {
    if (meta_) jsMsgMetaData_Destroy(meta_);
    natsMsg_Destroy(msg_);
  }
  ByteSpan data() const override {
    return ByteSpan(reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg_)),
                    static_cast<std::size_t>(natsMsg_GetDataLength(msg_)));
  }
  std::optional<std::string> header(const char* name) const override {
    const char* v = nullptr;
    if (natsMsgHeader_Get(msg_, name, &v) != NATS_OK || !v) return std::nullopt;
    return std::string(v);
  }
  std::uint64_t times_delivered() const override { return meta_ ? meta_->NumDelivered : 1; }
  std::uint64_t stream_sequence() const override { return meta_ ? meta_->Sequence.Stream : 0; }
  Status ack() override {
    if (auto s = natsMsg_Ack(msg_, nullptr); s != NATS_OK) return unexpected(error("ack", status_text(s)));
    return {};
  }
  Status nak(std::chrono::milliseconds delay) override {
    if (auto s = natsMsg_NakWithDelay(msg_, delay.count(), nullptr); s != NATS_OK) {
      return unexpected(error("nak", status_text(s)));
    }
    return {};
  }

 private:
  natsMsg* msg_;
  jsMsgMetaData* meta_ = nullptr;
};

class NatsConsumer final : public Consumer {
 public:
  explicit NatsConsumer(Options o) : options_(std::move(o)) {}
  ~NatsConsumer() override {
    if (sub_) natsSubscription_Destroy(sub_);
  }

  Status start() {
    conn_ = std::make_unique<Connection>();
    ARMORED_TRY(conn_->open(options_, nullptr));
    ARMORED_TRY(conn_->ensure_stream(options_));
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = options_.consumer.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = ns(options_.ack_wait);
    cc.MaxAckPending = options_.max_ack_pending;
    // Delivered until acknowledged, however often: a message is never
    // dropped for having failed (a database outage fails every attempt).
    cc.MaxDeliver = -1;
    ARMORED_TRY(conn_->retry_api("consumer", [&](jsErrCode* jerr) {
      jsConsumerInfo* ci = nullptr;
      natsStatus s = js_AddConsumer(&ci, conn_->js(), options_.stream.c_str(), &cc, nullptr, jerr);
      if (s != NATS_OK && (*jerr == JSConsumerNameExistErr || *jerr == JSConsumerExistingActiveErr)) s = NATS_OK;
      if (ci) jsConsumerInfo_Destroy(ci);
      return s;
    }));
    const std::string subjects = options_.subject + ".>";
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = options_.stream.c_str();
    so.Consumer = options_.consumer.c_str();
    return conn_->retry_api("consumer", [&](jsErrCode* jerr) {
      return js_PullSubscribe(&sub_, conn_->js(), subjects.c_str(), options_.consumer.c_str(), nullptr, &so, jerr);
    });
  }

  Expected<std::vector<std::unique_ptr<Delivery>>> fetch(int max, std::chrono::milliseconds wait) override {
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = natsSubscription_Fetch(&list, sub_, max, wait.count(), &jerr);
    std::vector<std::unique_ptr<Delivery>> out;
    if (s == NATS_TIMEOUT) return out;
    if (s != NATS_OK) {
      natsMsgList_Destroy(&list);
      return unexpected(error("fetch", status_text(s, jerr)));
    }
    out.reserve(static_cast<std::size_t>(list.Count));
    for (int i = 0; i < list.Count; ++i) {
      out.push_back(std::make_unique<NatsDelivery>(list.Msgs[i]));
      list.Msgs[i] = nullptr;  // owned by the delivery now
    }
    natsMsgList_Destroy(&list);
    return out;
  }

  ConnectionStats stats() const override { return conn_->stats(); }

 private:
  Options options_;
  std::unique_ptr<Connection> conn_;
  natsSubscription* sub_ = nullptr;
};

// --- Bus ---------------------------------------------------------------------

class NatsBus final : public Bus {
 public:
  explicit NatsBus(Options o) : options_(std::move(o)) {}
  ~NatsBus() override {
    for (natsSubscription* sub : subs_) {
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
    }
    conn_.reset();
  }

  Status start() {
    conn_ = std::make_unique<Connection>();
    return conn_->open(options_, nullptr);
  }

  Status publish(const std::string& subject, const std::vector<Header>& headers, ByteSpan data) override {
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, reinterpret_cast<const char*>(data.data()),
                                  static_cast<int>(data.size()));
    for (const auto& [k, v] : headers) {
      if (s == NATS_OK) s = natsMsgHeader_Set(msg, k.c_str(), v.c_str());
    }
    if (s == NATS_OK) s = natsConnection_PublishMsg(conn_->nats(), msg);
    natsMsg_Destroy(msg);
    if (s != NATS_OK) return unexpected(error("publish", status_text(s)));
    return {};
  }

  Status subscribe(const std::string& subject, Handler handler) override {
    auto owned = std::make_unique<Handler>(std::move(handler));
    natsSubscription* sub = nullptr;
    if (auto s = natsConnection_Subscribe(&sub, conn_->nats(), subject.c_str(), &NatsBus::on_message, owned.get());
        s != NATS_OK) {
      return unexpected(error("subscribe", status_text(s)));
    }
    subs_.push_back(sub);
    handlers_.push_back(std::move(owned));
    return {};
  }

 private:
  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    const auto& handler = *static_cast<Handler*>(closure);
    Message m{ByteSpan(reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg)),
                       static_cast<std::size_t>(natsMsg_GetDataLength(msg))),
              [msg](const char* name) -> std::optional<std::string> {
                const char* v = nullptr;
                if (natsMsgHeader_Get(msg, name, &v) != NATS_OK || !v) return std::nullopt;
                return std::string(v);
              }};
    handler(m);
    natsMsg_Destroy(msg);
  }

  Options options_;
  std::unique_ptr<Connection> conn_;
  std::vector<natsSubscription*> subs_;
  std::vector<std::unique_ptr<Handler>> handlers_;
};

}  // namespace

Expected<std::unique_ptr<Bus>> Bus::connect(const Options& options) {
  ARMORED_TRY(validate(options));
  auto b = std::make_unique<NatsBus>(options);
  ARMORED_TRY(b->start());
  return std::unique_ptr<Bus>(std::move(b));
}

Status validate(const Options& o) {
  auto bad = [](std::string m) { return unexpected(error("bad_option", std::move(m), ErrorKind::kBadInput)); };
  if (o.servers.empty()) return bad("no NATS servers given");
  for (const auto& s : o.servers) {
    if (s.rfind("nats://", 0) != 0 && s.rfind("tls://", 0) != 0) {
      return bad("NATS server '" + s + "' is not a nats:// or tls:// URL");
    }
  }
  if (!usable_name(o.stream)) return bad("stream name '" + o.stream + "' (letters, digits, - and _, at most 64)");
  if (!usable_name(o.consumer)) return bad("consumer name '" + o.consumer + "' (letters, digits, - and _, at most 64)");
  if (!usable_subject(o.subject)) return bad("subject '" + o.subject + "' (tokens of letters, digits, - and _ joined by .)");
  if (o.replicas < 1 || o.replicas > 5) return bad("replicas " + std::to_string(o.replicas) + " (1 to 5)");
  if (o.duplicate_window < std::chrono::seconds(1)) return bad("duplicate window under 1 s");
  if (o.ack_wait < std::chrono::seconds(1)) return bad("ack wait under 1 s");
  if (o.max_bytes < (1 << 20)) return bad("max_bytes under 1 MiB");
  if (o.cert_file.empty() != o.key_file.empty()) return bad("a client certificate needs its key, and a key its certificate");
  return {};
}

Expected<std::unique_ptr<Publisher>> Publisher::connect(const Options& options) {
  ARMORED_TRY(validate(options));
  auto p = std::make_unique<NatsPublisher>(options);
  ARMORED_TRY(p->start());
  return std::unique_ptr<Publisher>(std::move(p));
}

Expected<std::unique_ptr<Consumer>> Consumer::connect(const Options& options) {
  ARMORED_TRY(validate(options));
  auto c = std::make_unique<NatsConsumer>(options);
  ARMORED_TRY(c->start());
  return std::unique_ptr<Consumer>(std::move(c));
}

}  // namespace armored::jetstream
