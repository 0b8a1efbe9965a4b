package quasiroll.worker.policy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.ModelTensors;
import quasiroll.worker.model.TensorData;

/**
 * Checks published tensors against the weights a model serves: every tensor must be one of the
 * model's weights with the same dtype and shape, and a full (non-partial) policy must give every
 * weight. Refusals name the tensor, what it is and what is accepted.
 */
public final class PolicyCheck {
  private PolicyCheck() {}

  /** The weights of a loaded model that a policy may replace, by name, in file order. */
  public static Map<String, TensorSpec> signature(LoadedModel model) {
    Map<String, TensorSpec> sig = new LinkedHashMap<>();
    for (String name : ModelTensors.expected(model.config()).keySet()) {
      TensorData t = model.tensor(name);
      sig.put(name, new TensorSpec(name, t.dtype(), t.shape()));
    }
    return sig;
  }

  /**
   * @param modelId for messages
   * @param update the published tensors by name
   * @param source where they came from (a directory, "the stream"), for messages
   * @param partial true when tensors not given keep their previous values
   */
  public static void check(
      String modelId,
      Map<String, TensorSpec> signature,
      Map<String, TensorSpec> update,
      String source,
      boolean partial) {
    if (update.isEmpty()) {
      throw new BadInputException(
          "policy for model '"
              + modelId
              + "' from "
              + source
              + " has no tensors: expected some of its "
              + signature.size()
              + " weights");
    }
    for (TensorSpec t : update.values()) {
      TensorSpec want = signature.get(t.name());
      if (want == null) {
        throw new BadInputException(
            "policy for model '"
                + modelId
                + "' from "
                + source
                + ": tensor '"
                + t.name()
                + "' is not a weight of the model (its weights are "
                + preview(signature)
                + ")");
      }
      if (t.dtype() != want.dtype() || !Arrays.equals(t.shape(), want.shape())) {
        throw new BadInputException(
            "policy for model '"
                + modelId
                + "' from "
                + source
                + ": tensor '"
                + t.name()
                + "' is "
                + t.describe()
                + " but the model's is "
                + want.describe()
                + " (dtype and shape must match)");
      }
    }
    if (!partial) {
      for (String name : signature.keySet()) {
        if (!update.containsKey(name)) {
          throw new BadInputException(
              "policy for model '"
                  + modelId
                  + "' from "
                  + source
                  + ": tensor '"
                  + name
                  + "' is missing (a full policy gives all "
                  + signature.size()
                  + " weights; publish it as partial to change only some)");
        }
      }
    }
  }

  private static String preview(Map<String, TensorSpec> signature) {
    var names = signature.keySet().stream().limit(4).toList();
    return String.join(", ", names)
        + (signature.size() > 4 ? ", ... (" + signature.size() + " in all)" : "");
  }
}
