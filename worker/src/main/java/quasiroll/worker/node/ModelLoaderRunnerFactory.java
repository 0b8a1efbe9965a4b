package quasiroll.worker.node;

import quasiroll.common.noise.Couplings;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.runtime.ModelLoader;

/**
 * The default runner: the model loaded once with {@link ModelLoader}, decoded by the shared
 * {@link ShardDecoder} with the QMC couplings; model ids starting with {@code loadtest:} get
 * the {@link LoadTestRunner} instead.
 */
final class ModelLoaderRunnerFactory implements ShardRunnerFactory {
  @Override
  public ShardRunner open(String model, String device, int capacity) {
    if (model.startsWith(LoadTestRunner.PREFIX)) {
      return LoadTestRunner.open(model);
    }
    ModelHandle loaded = ModelLoader.load(model, device);
    return new ShardDecoder(loaded.backend(), loaded.tokenizer(), Couplings.INSTANCE, 1);
  }
}
