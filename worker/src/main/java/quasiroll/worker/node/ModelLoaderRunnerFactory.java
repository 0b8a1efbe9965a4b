package quasiroll.worker.node;

import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;

/**
 * The default runner: the model loaded once with {@link BackendLoader}, decoded by the shared
 * {@link ShardDecoder} with the QMC couplings; model ids starting with {@code loadtest:} get
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
    return new ShardDecoder(loaded.backend(), loaded.tokenizer(), CouplingNoiseFactory.INSTANCE, 1);
  }
}
