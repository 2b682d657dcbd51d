#pragma once
// The gateway's metrics (docs/operations.md, "Metrics"): its status
// snapshot as Prometheus families.

#include "gateway/gateway.h"
#include "metrics/metrics.h"

namespace armored::gateway {

// Appends the armored_gateway_* families for `s` to `out`.
void add_gateway_families(metrics::Families& out, const GatewayStatus& s);

}  // namespace armored::gateway
