package quasiroll.coordinator.job;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.atomic.AtomicLong;

/** The job manager's counters and gauges ({@code quasiroll_coordinator_*}). */
final class JobManagerMetrics {
  final Counter samples;
  final Counter tokens;
  final Counter duplicates;
  final Counter violations;
  final Counter requeued;
  final Counter refusedResults;
  final Counter failedShards;
  final Timer shardLatency;
  private final AtomicLong queueDepth = new AtomicLong();
  private final AtomicLong liveWorkers = new AtomicLong();
  private final AtomicLong activeJobs = new AtomicLong();

  private final ShardScheduler scheduler;
  private final WorkerRegistry workers;
  private final JobTable jobs;

  JobManagerMetrics(
      MeterRegistry m, ShardScheduler scheduler, WorkerRegistry workers, JobTable jobs) {
    this.scheduler = scheduler;
    this.workers = workers;
    this.jobs = jobs;
    this.refusedResults = m.counter("quasiroll_coordinator_refused_results");
    this.failedShards = m.counter("quasiroll_coordinator_failed_shards");
    this.samples = m.counter("quasiroll_coordinator_samples");
    this.tokens = m.counter("quasiroll_coordinator_tokens");
    this.duplicates = m.counter("quasiroll_coordinator_duplicates_dropped");
    this.violations = m.counter("quasiroll_coordinator_determinism_violations");
    this.requeued = m.counter("quasiroll_coordinator_requeued_shards");
    this.shardLatency = m.timer("quasiroll_coordinator_shard_latency");
    m.gauge("quasiroll_coordinator_queue_depth", queueDepth);
    m.gauge("quasiroll_coordinator_live_workers", liveWorkers);
    m.gauge("quasiroll_coordinator_active_jobs", activeJobs);
  }

  void updateGauges() {
    queueDepth.set(scheduler.queueDepth());
    liveWorkers.set(workers.size());
    activeJobs.set(jobs.pruneActive());
  }
}
