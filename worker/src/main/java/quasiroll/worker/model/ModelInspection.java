package quasiroll.worker.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The human-readable report of {@code quasiroll inspect} for a loaded model. */
public final class ModelInspection {
  private ModelInspection() {}

  /**
   * @param k samples per prompt of the job to size
   * @param promptTokens prompt length of that job
   * @param newTokens max new tokens of that job
   * @param budgetBytes {@code quasiroll.worker.memory-budget-bytes}
   */
  public static List<String> report(
      LoadedModel m, int k, int promptTokens, int newTokens, long budgetBytes) {
    ModelConfig c = m.config();
    List<String> out = new ArrayList<>();
    out.add(row("model", m.source() + " (" + m.format() + ")"));
    out.add(row("architecture", c.architecture()));
    out.add(
        row("parameters", human(m.parameterCount(), 1000, "") + " (" + m.parameterCount() + ")"));
    StringBuilder dt = new StringBuilder();
    for (Map.Entry<DType, Long> e : m.elementsByDType().entrySet()) {
      dt.append(dt.length() == 0 ? "" : ", ")
          .append(e.getKey())
          .append(String.format(Locale.ROOT, " %.1f%%", 100.0 * e.getValue() / m.parameterCount()));
    }
    out.add(row("dtypes", dt + " of parameters"));
    out.add(row("weights", bytes(m.weightBytes())));
    out.add(
        row(
            "shape",
            c.numLayers()
                + " layers, hidden "
                + c.hiddenSize()
                + ", "
                + c.numHeads()
                + " heads ("
                + c.numKvHeads()
                + " KV heads, head dim "
                + c.headDim()
                + "), ffn "
                + c.intermediateSize()
                + ", vocab "
                + c.vocabSize()));
    out.add(
        row(
            "attention",
            "rope theta "
                + fmt(c.ropeTheta())
                + (c.ropeScaling() != null
                    ? ", llama3 scaling x" + fmt(c.ropeScaling().factor())
                    : "")
                + (m.tensors().containsKey("rope_freqs.weight") ? ", rope_freqs scaling" : "")
                + ", rms eps "
                + c.rmsNormEps()
                + (c.qkvBias() ? ", q/k/v bias" : "")
                + (c.tiedEmbeddings() ? ", tied embeddings" : "")));
    out.add(row("context", c.contextLength() + " tokens"));
    out.add(row("tokenizer", m.tokenizer().summary()));
    MemoryPlan p = m.memoryPlan();
    out.add(row("kv cache", bytes(p.kvBytesPerToken()) + " per token per sequence (f32)"));
    out.add(
        row(
            "job",
            "k="
                + k
                + ", prompt "
                + promptTokens
                + " + "
                + newTokens
                + " new tokens: KV "
                + bytes(p.kvBytes(k, promptTokens, newTokens))
                + ", activations "
                + bytes(p.activationBytes(k, promptTokens, newTokens))
                + ", logits "
                + bytes(p.logitsBytes(k))));
    long session = p.sessionBytes(k, promptTokens, newTokens);
    out.add(
        row(
            "memory",
            "session "
                + bytes(session)
                + " (budget "
                + bytes(budgetBytes)
                + ": "
                + (session <= budgetBytes ? "fits" : "DOES NOT FIT")
                + ", largest k "
                + p.maxSamples(promptTokens, newTokens, budgetBytes)
                + "), peak with weights "
                + bytes(p.peakBytes(k, promptTokens, newTokens))));
    return out;
  }

  private static String row(String key, String value) {
    return String.format(Locale.ROOT, "%-13s %s", key, value);
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  static String bytes(long b) {
    return human(b, 1024, "B") + (b >= 1024 ? " (" + b + " B)" : "");
  }

  private static String human(long n, int base, String unit) {
    String[] prefixes =
        base == 1024
            ? new String[] {"", "Ki", "Mi", "Gi", "Ti"}
            : new String[] {"", "K", "M", "G", "T"};
    double v = n;
    int i = 0;
    while (v >= base && i < prefixes.length - 1) {
      v /= base;
      i++;
    }
    return i == 0
        ? n + (unit.isEmpty() ? "" : " " + unit)
        : String.format(Locale.ROOT, "%.2f %s%s", v, prefixes[i], unit);
  }
}
