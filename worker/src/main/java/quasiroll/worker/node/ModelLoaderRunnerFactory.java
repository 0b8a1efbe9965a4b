package quasiroll.worker.node;

import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.worker.engine.ContinuousDecoder;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.runtime.BatchedDecoding;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.runtime.SyntheticBackend;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;

/**
 * The default runner: the model loaded once with {@link BackendLoader}, decoded with the QMC
 * couplings by one continuous-batching loop ({@link ContinuousDecoder}, batch rows = the
 * larger of the capacity and {@link ContinuousDecoder#DEFAULT_MAX_ROWS}) when the backend can
 * batch across sessions (CPU) and for the synthetic model, else shard by shard by
 * {@link ShardDecoder} (CUDA, whose sampling stays on the device); model ids starting with {@code loadtest:} get
 * the {@link LoadTestRunner} instead.
 */
final class ModelLoaderRunnerFactory implements ShardRunnerFactory {
  private final WorkerSettings settings;

  /** @param settings the worker settings of the configuration the node loaded */
  ModelLoaderRunnerFactory(WorkerSettings settings) {
    this.settings = settings;
  }

  @Override
  public ShardRunner open(String model, String device, int capacity) {
    if (model.startsWith(LoadTestRunner.PREFIX)) {
      return LoadTestRunner.open(model);
    }
    ModelHandle loaded = BackendLoader.load(model, device, settings);
    if (loaded.backend() instanceof BatchedDecoding || loaded.backend() instanceof SyntheticBackend) {
      return new ContinuousDecoder(loaded.backend(), loaded.tokenizer(), CouplingNoiseFactory.INSTANCE,
          Math.max(capacity, ContinuousDecoder.DEFAULT_MAX_ROWS), ContinuousDecoder.DEFAULT_MAX_PREFILL_TOKENS);
    }
    return new ShardDecoder(loaded.backend(), loaded.tokenizer(), CouplingNoiseFactory.INSTANCE, 1);
  }
}
