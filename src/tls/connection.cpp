#include "tls/connection.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "tls/internal/connection_state.h"
#include "tls/context_impl.h"

namespace armored::tls {

using detail::BioPtr;
using detail::SessionPtr;
using detail::SslPtr;

namespace {

// Connection states. Transitions (anything else is a bug):
//   client: kStart -start()-> kHandshake -> kEstablished -> kClosed
//   server: kStart -feed()-> kEarlyData (0-RTT enabled) -> kHandshake -> kEstablished -> kClosed
//   any state -error-> kFailed
enum class State : std::uint8_t { kStart, kEarlyData, kHandshake, kEstablished, kClosed, kFailed };

bool is_ip_literal(const std::string& s) {
  std::array<unsigned char, 16> buf{};
  return inet_pton(AF_INET, s.c_str(), buf.data()) == 1 || inet_pton(AF_INET6, s.c_str(), buf.data()) == 1;
}

// The bytes between OpenSSL and the caller. OpenSSL reads and writes them
// through one BIO of our own instead of two memory BIOs: a memory BIO keeps
// its largest buffer (the certificate flight) for the connection's life,
// while these vectors are released as soon as they are drained, so an idle
// connection holds no transport buffer at all.
struct Pipe {
  Bytes in;              // received, not yet read by OpenSSL
  std::size_t in_off = 0;
  Bytes out;             // written by OpenSSL, not yet taken by the caller

  // Frees the input buffer once OpenSSL has read all of it.
  void compact() {
    if (in_off == in.size()) {
      Bytes().swap(in);
      in_off = 0;
    } else if (in_off > 0) {
      in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(in_off));
      in_off = 0;
    }
  }
};

int pipe_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  auto* p = static_cast<Pipe*>(BIO_get_data(b));
  if (len <= 0) return 0;
  p->out.insert(p->out.end(), data, data + len);
  return len;
}

int pipe_read(BIO* b, char* buf, int len) {
  BIO_clear_retry_flags(b);
  auto* p = static_cast<Pipe*>(BIO_get_data(b));
  std::size_t avail = p->in.size() - p->in_off;
  if (avail == 0) {
    BIO_set_retry_read(b);  // empty means "want more", never EOF
    return -1;
  }
  std::size_t n = std::min(avail, static_cast<std::size_t>(len > 0 ? len : 0));
  std::memcpy(buf, p->in.data() + p->in_off, n);
  p->in_off += n;
  return static_cast<int>(n);
}

long pipe_ctrl(BIO* b, int cmd, long /*num*/, void* /*ptr*/) {
  auto* p = static_cast<Pipe*>(BIO_get_data(b));
  switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return static_cast<long>(p->in.size() - p->in_off);
    case BIO_CTRL_WPENDING: return static_cast<long>(p->out.size());
    default: return 0;
  }
}

int pipe_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

// Created once, lives for the process (BIO methods are never freed while a
// BIO may use them).
const BIO_METHOD* pipe_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "armored-tls-pipe");
    if (m != nullptr && (BIO_meth_set_write(m, pipe_write) != 1 || BIO_meth_set_read(m, pipe_read) != 1 ||
                         BIO_meth_set_ctrl(m, pipe_ctrl) != 1 || BIO_meth_set_create(m, pipe_create) != 1)) {
      BIO_meth_free(m);
      m = nullptr;
    }
    return m;
  }();
  return method;
}

}  // namespace

struct Connection::Impl {
  TlsContext::Impl* ctx = nullptr;
  detail::ConnectionState st;
  Pipe pipe;  // before ssl: the SSL's BIO points here and is freed first
  SslPtr ssl;
  State state = State::kStart;
  Bytes pending_write;      // app data waiting for the handshake
  Bytes early_data;         // client: bytes sent as 0-RTT (resent if rejected)
  bool early_attempted = false;
  bool close_requested = false;
  std::optional<Clock::Duration> handshake_deadline;  // monotonic

  // Records the caller's `now` for the callbacks and the resumption recheck,
  // and judges certificates and CRLs at it.
  void set_now(Clock::TimePoint now) {
    st.now = now;
    X509_VERIFY_PARAM_set_time(SSL_get0_param(ssl.get()), static_cast<time_t>(unix_seconds(now)));
  }

  TlsCounters& counters() { return ctx->counters; }

  void fail(std::vector<Event>& out, TlsError e) {
    state = State::kFailed;
    counters().failures[static_cast<std::size_t>(e.reason)]++;
    out.emplace_back(Failed{std::move(e)});
  }

  // After an SSL_* call failed: work out whether it just wants more input.
  // Returns true if the connection is still usable.
  bool handle_ssl_error(int ret, std::vector<Event>& out) {
    int err = SSL_get_error(ssl.get(), ret);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return true;
    if (err == SSL_ERROR_ZERO_RETURN) {
      state = State::kClosed;
      out.emplace_back(Closed{true});
      return false;
    }
    TlsError e = detail::drain_error_queue(Reason::kInternal);
    if (st.verify_reason != Reason::kNone) {
      e.reason = st.verify_reason;
      e.message = st.verify_detail;
    }
    fail(out, std::move(e));
    return false;
  }

  void move_events(std::vector<Event>& out) {
    if (st.events.empty()) return;
    for (auto& e : st.events) out.push_back(std::move(e));
    std::vector<Event>().swap(st.events);
  }

  // A resumed session skips chain verification; the client certificate it
  // carries must still be unexpired and not revoked since the ticket was
  // issued, or a revoked gateway could resume for a whole ticket lifetime.
  Reason recheck_resumed_peer() {
    X509* cert = SSL_get0_peer_certificate(ssl.get());
    if (cert == nullptr) return Reason::kNoPeerCertificate;
    time_t now = static_cast<time_t>(unix_seconds(st.now));
    if (X509_cmp_time(X509_get0_notAfter(cert), &now) < 0) return Reason::kCertExpired;
    X509_STORE* store = nullptr;
    SSL_get0_verify_cert_store(ssl.get(), &store);
    if (store == nullptr) return Reason::kInternal;
    STACK_OF(X509_OBJECT)* objs = X509_STORE_get0_objects(store);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); ++i) {
      X509_CRL* crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
      if (crl == nullptr || X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(cert)) != 0) continue;
      X509_REVOKED* rev = nullptr;
      if (X509_CRL_get0_by_cert(crl, &rev, cert) == 1) return Reason::kRevoked;
    }
    st.peer = detail::identity_from_certificate(cert);
    if (st.peer.kind == PeerIdentity::Kind::kNone) return Reason::kMissingIdentity;
    return Reason::kNone;
  }

  void on_handshake_complete(std::vector<Event>& out) {
    state = State::kEstablished;
    HandshakeComplete hc;
    hc.resumed = SSL_session_reused(ssl.get()) == 1;
    if (st.server && hc.resumed && ctx->config.request_client_certificate) {
      if (Reason r = recheck_resumed_peer(); r != Reason::kNone) {
        fail(out, TlsError{r, "resumed session's client certificate no longer acceptable"});
        return;
      }
    }
    hc.early_data_accepted = SSL_get_early_data_status(ssl.get()) == SSL_EARLY_DATA_ACCEPTED;
    hc.cipher = SSL_CIPHER_standard_name(SSL_get_current_cipher(ssl.get()));
    hc.version = SSL_get_version(ssl.get());
    hc.peer = st.peer;
    if (hc.early_data_accepted) {
      counters().zero_rtt_handshakes++;
      counters().early_data_accepted++;
    } else if (hc.resumed) {
      counters().resumed_handshakes++;
    } else {
      counters().full_handshakes++;
    }
    bool rejected = SSL_get_early_data_status(ssl.get()) == SSL_EARLY_DATA_REJECTED;
    if (rejected) counters().early_data_rejected++;
    if (!st.server && early_attempted && !hc.early_data_accepted) {
      // The server did not take the 0-RTT bytes: they go again as 1-RTT data.
      pending_write.insert(pending_write.begin(), early_data.begin(), early_data.end());
    }
    Bytes().swap(early_data);
    out.emplace_back(std::move(hc));
  }

  // Server, 0-RTT phase: read early data until OpenSSL says it is finished.
  bool read_early_data(std::vector<Event>& out) {
    std::array<std::uint8_t, 16384> buf;
    for (;;) {
      std::size_t n = 0;
      int r = SSL_read_early_data(ssl.get(), buf.data(), buf.size(), &n);
      if (r == SSL_READ_EARLY_DATA_SUCCESS) {
        if (n > 0) out.emplace_back(ApplicationData{Bytes(buf.begin(), buf.begin() + n), true});
        continue;
      }
      if (r == SSL_READ_EARLY_DATA_FINISH) {
        state = State::kHandshake;
        return true;
      }
      handle_ssl_error(0, out);
      return false;
    }
  }

  bool do_handshake(std::vector<Event>& out) {
    int r = SSL_do_handshake(ssl.get());
    move_events(out);
    if (r == 1) {
      on_handshake_complete(out);
      return true;
    }
    handle_ssl_error(r, out);
    return false;
  }

  bool flush_writes(std::vector<Event>& out) {
    std::size_t off = 0;
    while (off < pending_write.size()) {
      std::size_t n = 0;
      int r = SSL_write_ex(ssl.get(), pending_write.data() + off, pending_write.size() - off, &n);
      if (r != 1) {
        pending_write.erase(pending_write.begin(), pending_write.begin() + off);
        return handle_ssl_error(r, out);
      }
      off += n;
    }
    pending_write.clear();
    pending_write.shrink_to_fit();
    return true;
  }

  void read_app_data(std::vector<Event>& out) {
    std::array<std::uint8_t, 16384> buf;
    for (;;) {
      std::size_t n = 0;
      int r = SSL_read_ex(ssl.get(), buf.data(), buf.size(), &n);
      move_events(out);  // tickets arrive during SSL_read
      if (r != 1) {
        handle_ssl_error(r, out);
        return;
      }
      out.emplace_back(ApplicationData{Bytes(buf.begin(), buf.begin() + n), false});
    }
  }

  // Runs the state machine as far as the buffered input allows.
  void drive(std::vector<Event>& out) {
    if (state == State::kStart && st.server) {
      state = ctx->config.max_early_data > 0 ? State::kEarlyData : State::kHandshake;
    }
    if (state == State::kEarlyData && !read_early_data(out)) return;
    if (state == State::kHandshake && !do_handshake(out)) return;
    if (state == State::kEstablished) {
      if (!flush_writes(out)) return;
      read_app_data(out);
      if (state == State::kEstablished && close_requested) {
        SSL_shutdown(ssl.get());
        state = State::kClosed;
      }
    }
    detail::clear_error_queue();
  }

};

namespace {

Expected<std::unique_ptr<Connection::Impl>> make_impl(TlsContext& ctx, bool server) {
  auto impl = std::make_unique<Connection::Impl>();
  impl->ctx = &ctx.impl();
  impl->st.ctx = impl->ctx;
  impl->st.server = server;
  ERR_clear_error();
  impl->ssl.reset(SSL_new(impl->ctx->ctx.get()));
  if (!impl->ssl) return fail("SSL_new: " + detail::drain_error_queue(Reason::kInternal).message);
  const BIO_METHOD* method = pipe_method();
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) return fail("cannot allocate the connection's BIO");
  BIO_set_data(bio, &impl->pipe);
  SSL_set_bio(impl->ssl.get(), bio, bio);  // one BIO both ways: one reference
  SSL_set_app_data(impl->ssl.get(), &impl->st);
  // set0: the connection's SSL owns the reference acquired here.
  SSL_set0_verify_cert_store(impl->ssl.get(), impl->ctx->acquire_verify_store());
  // Certificates and CRLs are judged at the caller's `now`, set by start()
  // and feed() before OpenSSL sees any handshake message.
  X509_VERIFY_PARAM* param = SSL_get0_param(impl->ssl.get());
  X509_VERIFY_PARAM_set_purpose(param, server ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER);
  if (server) {
    SSL_set_accept_state(impl->ssl.get());
  } else {
    SSL_set_connect_state(impl->ssl.get());
  }
  return impl;
}

}  // namespace

Expected<std::unique_ptr<Connection>> Connection::client(TlsContext& ctx, const ClientOptions& opts) {
  if (ctx.config().role != Role::kClient) return fail("client connection from a server context");
  if (opts.server_name.empty()) return fail("server name is required: the server is always verified");
  auto impl = make_impl(ctx, false);
  if (!impl) return unexpected(impl.error());
  SSL* ssl = (*impl)->ssl.get();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (is_ip_literal(opts.server_name)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, opts.server_name.c_str()) != 1) {
      return fail("bad IP address " + opts.server_name);
    }
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, opts.server_name.c_str(), 0) != 1 ||
        SSL_set_tlsext_host_name(ssl, opts.server_name.c_str()) != 1) {
      return fail("bad server name " + opts.server_name);
    }
  }
  (*impl)->pending_write = opts.early_data;
  if (opts.session && !opts.session->empty()) {
    const unsigned char* p = opts.session->data();
    SessionPtr sess(d2i_SSL_SESSION(nullptr, &p, static_cast<long>(opts.session->size())));
    // An unusable stored session only costs a full handshake.
    if (sess && SSL_SESSION_is_resumable(sess.get()) == 1 && SSL_set_session(ssl, sess.get()) == 1) {
      std::uint32_t max_early = SSL_SESSION_get_max_early_data(sess.get());
      if (!opts.early_data.empty() && opts.early_data.size() <= max_early) {
        (*impl)->early_data = opts.early_data;
        (*impl)->pending_write.clear();
      }
    }
    detail::clear_error_queue();
  }
  return std::unique_ptr<Connection>(new Connection(std::move(*impl)));
}

Expected<std::unique_ptr<Connection>> Connection::server(TlsContext& ctx) {
  if (ctx.config().role != Role::kServer) return fail("server connection from a client context");
  auto impl = make_impl(ctx, true);
  if (!impl) return unexpected(impl.error());
  return std::unique_ptr<Connection>(new Connection(std::move(*impl)));
}

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

std::vector<Event> Connection::start(Clock::TimePoint now) {
  std::vector<Event> out;
  Impl& c = *impl_;
  if (c.st.server || c.state != State::kStart) return out;
  c.set_now(now);
  c.state = State::kHandshake;
  if (!c.early_data.empty()) {
    std::size_t written = 0;
    int r = SSL_write_early_data(c.ssl.get(), c.early_data.data(), c.early_data.size(), &written);
    if (r == 1 && written == c.early_data.size()) {
      c.early_attempted = true;
    } else if (!c.handle_ssl_error(r, out)) {
      return out;
    }
  }
  c.drive(out);
  return out;
}

std::vector<Event> Connection::feed(ByteSpan in, Clock::TimePoint now) {
  std::vector<Event> out;
  Impl& c = *impl_;
  if (c.state == State::kClosed || c.state == State::kFailed) return out;
  // Once established the certificates were judged at handshake time; the
  // time still matters for the tickets a server issues after it.
  if (c.state != State::kEstablished) {
    c.set_now(now);
  } else {
    c.st.now = now;
  }
  if (in.size() > kMaxFeed) {
    c.fail(out, TlsError{Reason::kProtocolError, "more than 1 MiB fed at once"});
    return out;
  }
  c.pipe.in.insert(c.pipe.in.end(), in.begin(), in.end());
  if (c.state == State::kStart && !c.st.server) c.state = State::kHandshake;
  c.drive(out);
  // Input left after a failure or close is never read again.
  if (c.state == State::kClosed || c.state == State::kFailed) c.pipe.in_off = c.pipe.in.size();
  c.pipe.compact();
  return out;
}

Result<void, TlsError> Connection::write(ByteSpan app) {
  Impl& c = *impl_;
  if (c.state == State::kClosed || c.state == State::kFailed || c.close_requested) {
    return unexpected(TlsError{Reason::kProtocolError, "connection is not open"});
  }
  if (c.pending_write.size() + app.size() > kMaxPendingWrite) {
    return unexpected(TlsError{Reason::kProtocolError, "too much data queued before the handshake"});
  }
  c.pending_write.insert(c.pending_write.end(), app.begin(), app.end());
  if (c.state == State::kEstablished) {
    std::vector<Event> events;
    if (!c.flush_writes(events)) {
      for (auto& e : events) {
        if (auto* f = std::get_if<Failed>(&e)) return unexpected(f->error);
      }
    }
  }
  return {};
}

std::size_t write_in_pieces(Connection& conn, ByteSpan bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const std::size_t n = std::min(bytes.size() - done, Connection::kMaxPendingWrite);
    if (!conn.write(bytes.subspan(done, n))) break;
    done += n;
  }
  return done;
}

void Connection::close() {
  Impl& c = *impl_;
  if (c.state == State::kEstablished) {
    SSL_shutdown(c.ssl.get());
    c.state = State::kClosed;
  } else if (c.state != State::kFailed && c.state != State::kClosed) {
    c.close_requested = true;
  }
  detail::clear_error_queue();
}

void Connection::abort(TlsError error) {
  Impl& c = *impl_;
  if (c.state == State::kClosed || c.state == State::kFailed) return;
  std::vector<Event> ignored;
  c.fail(ignored, std::move(error));
}

void Connection::set_handshake_deadline(Clock::Duration deadline) { impl_->handshake_deadline = deadline; }

std::optional<Clock::Duration> Connection::next_deadline() const {
  const Impl& c = *impl_;
  if (c.state == State::kEstablished || c.state == State::kClosed || c.state == State::kFailed) return std::nullopt;
  return c.handshake_deadline;
}

std::vector<Event> Connection::on_timer(Clock::Duration monotonic_now) {
  std::vector<Event> out;
  auto due = next_deadline();
  if (!due || monotonic_now < *due) return out;
  impl_->fail(out, TlsError{Reason::kTimeout, "handshake did not complete in time"});
  return out;
}

Bytes Connection::take_output() {
  Bytes out;
  out.swap(impl_->pipe.out);  // leaves nothing allocated behind
  return out;
}

bool Connection::has_output() const { return !impl_->pipe.out.empty(); }
std::size_t Connection::output_size() const { return impl_->pipe.out.size(); }
bool Connection::handshake_done() const {
  return impl_->state == State::kEstablished || (impl_->state == State::kClosed && SSL_is_init_finished(impl_->ssl.get()));
}
bool Connection::is_open() const { return impl_->state != State::kClosed && impl_->state != State::kFailed; }
bool Connection::is_server() const { return impl_->st.server; }

}  // namespace armored::tls
