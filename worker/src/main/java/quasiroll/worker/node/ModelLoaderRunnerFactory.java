package quasiroll.worker.node;

import quasiroll.common.noise.Couplings;
import quasiroll.worker.engine.ContinuousDecoder;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.runtime.BatchedDecoding;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.runtime.ModelLoader;
import quasiroll.worker.runtime.SyntheticBackend;

/**
 * The default runner: the model loaded once with {@link ModelLoader}, decoded with the QMC
 * couplings by one continuous-batching loop ({@link ContinuousDecoder}, batch rows = the
 * larger of the capacity and {@link ContinuousDecoder#DEFAULT_MAX_ROWS}) when the backend can
 * batch across sessions (CPU) and for the synthetic model, else shard by shard by {@link ShardDecoder} (CUDA, whose
 * sampling stays on the device); model ids starting with {@code loadtest:} get
 * the {@link LoadTestRunner} instead.
 */
final class ModelLoaderRunnerFactory implements ShardRunnerFactory {
  @Override
  public ShardRunner open(String model, String device, int capacity) {
    if (model.startsWith(LoadTestRunner.PREFIX)) {
      return LoadTestRunner.open(model);
    }
    ModelHandle loaded = ModelLoader.load(model, device);
    if (loaded.backend() instanceof BatchedDecoding || loaded.backend() instanceof SyntheticBackend) {
      return new ContinuousDecoder(loaded.backend(), loaded.tokenizer(), Couplings.INSTANCE,
          Math.max(capacity, ContinuousDecoder.DEFAULT_MAX_ROWS), ContinuousDecoder.DEFAULT_MAX_PREFILL_TOKENS);
    }
    return new ShardDecoder(loaded.backend(), loaded.tokenizer(), Couplings.INSTANCE, 1);
  }
}
