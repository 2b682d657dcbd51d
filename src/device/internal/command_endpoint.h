#pragma once
// A simulated device's command endpoint, sans-I/O: opens a downlink E3
// envelope with the device's own sealer, runs the CommandProcessor against
// the device's copy of the schema, seals the reply like a reading, and
// carries out what the accepted command asked for (a new epoch for
// rotate_keys, a restart for reboot). The fleet owns the socket and queues
// the uplink messages returned here.

#include <string>
#include <vector>

#include "command/processor.h"
#include "command/simulated_device.h"
#include "common/clock.h"
#include "device/device_sealer.h"

namespace armored::device {

struct HandledCommand {
  command::Reply reply;
  // Messages to send, in order: the sealed reply and, when an epoch was
  // started (rotation due, or rotate_keys), its announcement.
  std::vector<Bytes> uplink;
  bool started_epoch = false;  // readings wait until the announcement is spooled
  bool rebooted = false;
};

class CommandEndpoint {
 public:
  // schema must outlive the endpoint and declare device_type.
  CommandEndpoint(const command::Schema& schema, const std::string& device_type, command::DeviceSettings initial,
                  Clock::TimePoint now, command::ProcessorConfig config = {});

  // The E3 error when the envelope does not open (forged, altered, replayed,
  // old epoch, another device's); nothing changes then.
  e3::E3Result<HandledCommand> handle(DeviceSealer& sealer, ByteSpan envelope, Clock::TimePoint now);

  const command::SimulatedDevice& device() const { return *device_; }
  const command::ProcessorCounters& counters() const { return processor_->counters(); }

 private:
  // Both on the heap: the processor keeps a reference to the device, and
  // the endpoint moves into the fleet's vector.
  std::unique_ptr<command::SimulatedDevice> device_;
  std::unique_ptr<command::CommandProcessor> processor_;
};

}  // namespace armored::device
