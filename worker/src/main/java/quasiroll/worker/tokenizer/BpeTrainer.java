package quasiroll.worker.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns byte-level BPE merges from a text (the classic Sennrich et al. loop): the text is split
 * into words by the pre-tokenizer regex, each word starts as its bytes in the {@link
 * ByteLevelAlphabet}, and the most frequent adjacent pair (ties: the lexicographically smallest
 * "left right") is merged, again and again. Deterministic, so fixtures built from one seed are
 * byte-identical. Meant for small fixture vocabularies, not for real corpora.
 */
public final class BpeTrainer {
  private BpeTrainer() {}

  /**
   * @param tokens the vocabulary: the 256 byte symbols in byte order, then each merge result
   * @param merges merge rules in rank order
   */
  public record Result(List<String> tokens, List<String[]> merges) {}

  public static Result train(String text, String preTokenizerRegex, int numMerges) {
    Pattern p = PreTokenizerPattern.compile(preTokenizerRegex, "BPE trainer");
    Map<String, Integer> wordCounts = new TreeMap<>();
    Matcher m = p.matcher(text);
    while (m.find()) {
      if (m.end() > m.start()) {
        wordCounts.merge(
            ByteLevelAlphabet.encode(m.group().getBytes(StandardCharsets.UTF_8)), 1, Integer::sum);
      }
    }
    List<List<String>> words = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
      List<String> symbols = new ArrayList<>();
      for (char c : e.getKey().toCharArray()) {
        symbols.add(String.valueOf(c));
      }
      words.add(symbols);
      counts.add(e.getValue());
    }
    List<String> tokens = new ArrayList<>();
    for (int b = 0; b < 256; b++) {
      tokens.add(String.valueOf(ByteLevelAlphabet.charOf(b)));
    }
    List<String[]> merges = new ArrayList<>();
    Map<String, Boolean> known = new HashMap<>();
    tokens.forEach(t -> known.put(t, true));
    for (int step = 0; step < numMerges; step++) {
      Map<String, Integer> pairCounts = new LinkedHashMap<>();
      for (int w = 0; w < words.size(); w++) {
        List<String> s = words.get(w);
        for (int i = 0; i + 1 < s.size(); i++) {
          pairCounts.merge(s.get(i) + " " + s.get(i + 1), counts.get(w), Integer::sum);
        }
      }
      String best = null;
      int bestCount = 0;
      for (Map.Entry<String, Integer> e : pairCounts.entrySet()) {
        int c = e.getValue();
        if (c > bestCount || (c == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = c;
        }
      }
      if (best == null) {
        break;
      }
      int sp = best.indexOf(' ', 1);
      String a = best.substring(0, sp);
      String b = best.substring(sp + 1);
      merges.add(new String[] {a, b});
      if (known.putIfAbsent(a + b, true) == null) {
        tokens.add(a + b);
      }
      for (List<String> s : words) {
        for (int i = 0; i + 1 < s.size(); i++) {
          if (s.get(i).equals(a) && s.get(i + 1).equals(b)) {
            s.set(i, a + b);
            s.remove(i + 1);
          }
        }
      }
    }
    return new Result(List.copyOf(tokens), List.copyOf(merges));
  }
}
