#ifndef ARMORED_SAMPLE_READING_H
#define ARMORED_SAMPLE_READING_H
/* A resting adult's reading, within every range of docs/telemetry-reading.md,
 * for examples and tests; `i` varies it a little. */

#include "armored_device.h"

static inline armored_reading armored_sample_reading(uint32_t timestamp, unsigned i) {
  armored_reading r;
  r.timestamp = timestamp;
  r.heart_rate_dbpm = (uint16_t)(700 + i % 50);
  r.heart_rate_min_dbpm = 650;
  r.heart_rate_max_dbpm = 800;
  r.spo2_pct = 97;
  r.spo2_min_pct = 95;
  r.perfusion_index_cpct = 250;
  r.respiration_rate = 14;
  r.ecg_rhythm = 1;
  r.ecg_rr_mean_ms = 830;
  r.ecg_hrv_rmssd_ms = 40;
  r.ecg_pr_ms = 160;
  r.ecg_qrs_ms = 90;
  r.ecg_qtc_ms = 410;
  r.ecg_st_uv = 20;
  r.ecg_ectopic_beats = 0;
  r.ecg_quality_pct = 95;
  r.skin_temp_cdegc = 3350;
  r.activity_mg = 100;
  r.steps = (uint16_t)(i % 100);
  r.posture = 1;
  r.battery_pct = 80;
  r.battery_mv = 3900;
  r.window_s = 30;
  r.flags = 0;
  r.rssi_dbm = -60;
  return r;
}

#endif
