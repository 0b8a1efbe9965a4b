package quasiroll.worker.runtime;

import java.util.Set;

/**
 * What the decode loop needs to know about a model.
 *
 * @param id the model id workers register under (e.g. "demo", a path, "synthetic:markov?...")
 * @param architecture e.g. "llama", "qwen2", "synthetic-markov"
 * @param vocabSize logits row length
 * @param contextLength maximum tokens per sequence, prompt included
 * @param eosTokenIds tokens that end a sample
 * @param weightBytes bytes of weights resident on the device
 * @param kvBytesPerToken KV-cache bytes one token of one sequence needs
 */
public record ModelInfo(
    String id,
    String architecture,
    int vocabSize,
    int contextLength,
    Set<Integer> eosTokenIds,
    long weightBytes,
    long kvBytesPerToken) {
  public ModelInfo {
    eosTokenIds = Set.copyOf(eosTokenIds);
  }
}
