package quasiroll.worker.node;

import quasiroll.common.noise.Couplings;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.runtime.ModelLoader;

/**
 * The default runner: the worker runtime's model loader plus its shard decoder (one
 * token-selection thread per shard: a worker's --parallel runs shards side by side); model
 * ids starting with {@code loadtest:} get the {@link LoadTestRunner} instead.
 */
final class ModelLoaderRunnerFactory implements ShardRunnerFactory {
  @Override
  public ShardRunner open(String model, String device, int capacity) {
    if (model.startsWith(LoadTestRunner.PREFIX)) {
      return LoadTestRunner.open(model);
    }
    ModelHandle m = ModelLoader.load(model, device);
    return new ShardDecoder(m.backend(), m.tokenizer(), Couplings.INSTANCE, 1);
  }
}
