package quasiroll.worker.node;

import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.worker.engine.ContinuousDecoder;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.policy.PolicyVersions;
import quasiroll.worker.runtime.BatchedDecoding;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.runtime.SyntheticBackend;

/**
 * The default runner: the model loaded once with {@link BackendLoader}, decoded with the QMC
 * couplings by one continuous-batching loop ({@link ContinuousDecoder}, batch rows = the larger of
 * the capacity and {@link ContinuousDecoder#DEFAULT_MAX_ROWS}) when the backend can batch across
 * sessions (CPU) and for the synthetic model, else shard by shard by {@link ShardDecoder} (CUDA,
 * whose sampling stays on the device). Real models (a HF directory or a GGUF file) are served
 * through {@link PolicyVersions}, one such decoder per loaded version, so published policies can
 * replace their weights; model ids starting with {@code loadtest:} get the {@link LoadTestRunner},
 * and synthetic models (no weights to publish) a plain decoder.
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
      return decoder(loaded.backend(), loaded.tokenizer(), capacity);
    }
    LoadedModel base = BackendLoader.openWeights(model);
    return new PolicyVersions(
        model,
        base,
        weights -> {
          ModelBackend backend = BackendLoader.backend(model, weights, device, settings);
          ShardRunner decoder = decoder(backend, weights.tokenizer(), capacity);
          return new PolicyVersions.Runner(
              decoder,
              () -> {
                ((AutoCloseable) decoder).close();
                backend.close();
              });
        },
        policyBudgetBytes);
  }

  /** Continuous batching when the backend can batch across sessions (or is synthetic). */
  private static ShardRunner decoder(
      ModelBackend backend, quasiroll.worker.tokenizer.Tokenizer tokenizer, int capacity) {
    if (backend instanceof BatchedDecoding || backend instanceof SyntheticBackend) {
      return new ContinuousDecoder(
          backend,
          tokenizer,
          CouplingNoiseFactory.INSTANCE,
          Math.max(capacity, ContinuousDecoder.DEFAULT_MAX_ROWS),
          ContinuousDecoder.DEFAULT_MAX_PREFILL_TOKENS);
    }
    return new ShardDecoder(backend, tokenizer, CouplingNoiseFactory.INSTANCE, 1);
  }
}
