package quasiroll.worker.node;

import java.nio.file.Path;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.noise.Couplings;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.policy.PolicyVersions;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.runtime.ModelLoader;

/**
 * The default runner: the model loaded once with {@link ModelLoader}, decoded by the shared
 * {@link ShardDecoder} with the QMC couplings. Real models (a HF directory or a GGUF file)
 * are served through {@link PolicyVersions}, so published policies can replace their
 * weights; model ids starting with {@code loadtest:} get the {@link LoadTestRunner}, and
 * synthetic models (no weights to publish) a plain decoder.
 */
final class ModelLoaderRunnerFactory implements ShardRunnerFactory {
  /** The most bytes of weights all policy versions on a worker may take; 0 = no limit. */
  static final String POLICY_BUDGET_KEY = "quasiroll.worker.policy-budget-bytes";

  @Override
  public ShardRunner open(String model, String device, int capacity) {
    if (model.startsWith(LoadTestRunner.PREFIX)) {
      return LoadTestRunner.open(model);
    }
    if (model.startsWith("synthetic:")) {
      ModelHandle loaded = ModelLoader.load(model, device);
      return new ShardDecoder(loaded.backend(), loaded.tokenizer(), Couplings.INSTANCE, 1);
    }
    var config = QuasirollConfig.load(null);
    long budget = config.getBytes(POLICY_BUDGET_KEY);
    // LoadedModel.open refuses a path that is not a model with a message naming it.
    LoadedModel base = ModelLoader.openWeights(model);
    return new PolicyVersions(model, base, weights -> {
      ModelBackend backend = ModelLoader.backend(model, weights, device);
      ShardDecoder decoder = new ShardDecoder(backend, weights.tokenizer(), Couplings.INSTANCE, 1);
      return new PolicyVersions.Runner(decoder, () -> {
        decoder.close();
        backend.close();
      });
    }, budget);
  }
}
