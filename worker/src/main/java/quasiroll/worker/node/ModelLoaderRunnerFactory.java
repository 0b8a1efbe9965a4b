package quasiroll.worker.node;

import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.policy.PolicyVersions;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelHandle;

/**
 * The default runner: the model loaded once with {@link BackendLoader}, decoded by the shared
 * {@link ShardDecoder} with the QMC couplings. Real models (a HF directory or a GGUF file)
 * are served through {@link PolicyVersions}, so published policies can replace their
 * weights; model ids starting with {@code loadtest:} get the {@link LoadTestRunner}, and
 * synthetic models (no weights to publish) a plain decoder.
 */
final class ModelLoaderRunnerFactory implements ShardRunnerFactory {
  /** The most bytes of weights all policy versions on a worker may take; 0 = no limit. */
  static final String POLICY_BUDGET_KEY = "quasiroll.worker.policy-budget-bytes";

  private final WorkerSettings settings;
  private final long policyBudgetBytes;

  /**
   * @param settings the worker settings of the configuration the node loaded
   * @param policyBudgetBytes {@value #POLICY_BUDGET_KEY}
   */
  ModelLoaderRunnerFactory(WorkerSettings settings, long policyBudgetBytes) {
    this.settings = settings;
    this.policyBudgetBytes = policyBudgetBytes;
  }

  @Override
  public ShardRunner open(String model, String device, int capacity) {
    if (model.startsWith(LoadTestRunner.PREFIX)) {
      return LoadTestRunner.open(model);
    }
    if (model.startsWith("synthetic:")) {
      ModelHandle loaded = BackendLoader.load(model, device, settings);
      return new ShardDecoder(loaded.backend(), loaded.tokenizer(), CouplingNoiseFactory.INSTANCE, 1);
    }
    LoadedModel base = BackendLoader.openWeights(model);
    return new PolicyVersions(model, base, weights -> {
      ModelBackend backend = BackendLoader.backend(model, weights, device, settings);
      ShardDecoder decoder = new ShardDecoder(backend, weights.tokenizer(), CouplingNoiseFactory.INSTANCE, 1);
      return new PolicyVersions.Runner(decoder, () -> {
        decoder.close();
        backend.close();
      });
    }, policyBudgetBytes);
  }
}
