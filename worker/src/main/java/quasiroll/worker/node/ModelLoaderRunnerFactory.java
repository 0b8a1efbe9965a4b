package quasiroll.worker.node;

import quasiroll.common.error.BadInputException;
import quasiroll.worker.engine.ShardRunner;

/** The production runner: the worker runtime's model loader plus its shard decoder. */
final class ModelLoaderRunnerFactory implements ShardRunnerFactory {
  @Override
  public ShardRunner open(String model, String device, int capacity) {
    // Wired to ModelLoader + ShardDecoder once the model runtime lands on main.
    throw new BadInputException(
        "model '" + model + "' cannot be loaded: this build has no model loader yet");
  }
}
