package quasiroll.common.sampler;

import java.util.List;
import quasiroll.common.error.BadInputException;

/**
 * How a token is chosen and when a sample stops. The processed distribution is built from the
 * logits in this order: temperature, top-k, top-p, min-p (see {@link TokenSampler}).
 *
 * @param temperature >= 0; 0 is greedy (argmax, lowest id wins ties)
 * @param topK 0 = off, else keep the topK most probable tokens
 * @param topP in (0, 1]; 1 = off
 * @param minP in [0, 1); 0 = off; drop tokens with p < minP * max p
 * @param vocabOrder order of the vocabulary along the CDF
 * @param maxNewTokens >= 1
 * @param stopStrings generation stops once any appears in the generated text
 * @param stopTokenIds extra stop token ids besides the model's EOS ids
 */
public record DecodeParams(
    double temperature,
    int topK,
    double topP,
    double minP,
    VocabOrder vocabOrder,
    int maxNewTokens,
    List<String> stopStrings,
    List<Integer> stopTokenIds) {

  public static final DecodeParams DEFAULT =
      new DecodeParams(1.0, 0, 1.0, 0.0, VocabOrder.ID, 256, List.of(), List.of());

  public DecodeParams {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new BadInputException(
          "temperature " + temperature + " is invalid: expected a finite number >= 0 (0 = greedy)");
    }
    if (topK < 0) {
      throw new BadInputException(
          "top-k " + topK + " is invalid: expected 0 (off) or a positive count");
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new BadInputException(
          "top-p " + topP + " is invalid: expected a value in (0, 1] (1 = off)");
    }
    if (!(minP >= 0 && minP < 1)) {
      throw new BadInputException(
          "min-p " + minP + " is invalid: expected a value in [0, 1) (0 = off)");
    }
    if (maxNewTokens < 1) {
      throw new BadInputException("max-new-tokens " + maxNewTokens + " is invalid: expected >= 1");
    }
    if (vocabOrder == null) {
      vocabOrder = VocabOrder.ID;
    }
    stopStrings = List.copyOf(stopStrings == null ? List.of() : stopStrings);
    stopTokenIds = List.copyOf(stopTokenIds == null ? List.of() : stopTokenIds);
  }

  public boolean greedy() {
    return temperature == 0;
  }

  public DecodeParams withTemperature(double t) {
    return new DecodeParams(
        t, topK, topP, minP, vocabOrder, maxNewTokens, stopStrings, stopTokenIds);
  }

  public DecodeParams withMaxNewTokens(int n) {
    return new DecodeParams(
        temperature, topK, topP, minP, vocabOrder, n, stopStrings, stopTokenIds);
  }
}
