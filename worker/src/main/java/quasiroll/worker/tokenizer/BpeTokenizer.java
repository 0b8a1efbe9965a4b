package quasiroll.worker.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Byte-level BPE as used by GPT-2, Llama 3 and Qwen2 (HF {@code tokenizers} model "BPE" with
 * ByteLevel pre-tokenizer/decoder; llama.cpp vocab type "gpt2"). Encoding:
 *
 * <ol>
 *   <li>added/special tokens are cut out of the text literally (longest match first) and map
 *       straight to their ids;
 *   <li>the rest is optionally NFC-normalized, split into words by the pre-tokenizer regex (matches
 *       and the gaps between them are words, HF's "Isolated" behaviour);
 *   <li>each word's UTF-8 bytes are written in the {@link ByteLevelAlphabet}; if {@code
 *       ignoreMerges} and the whole word is a vocabulary entry it is one token (Llama 3), otherwise
 *       adjacent symbols are merged repeatedly, lowest merge rank first.
 * </ol>
 *
 * {@link #encode} never adds BOS; {@link #encodePrompt} does when the model's configuration asks
 * for it ({@link Spec#addBos()}, decided by the loader).
 */
public final class BpeTokenizer implements Tokenizer {
  /**
   * Everything that defines a byte-level BPE tokenizer.
   *
   * @param tokens id -> token string (byte-level alphabet); null for unused ids
   * @param merges merge rules in rank order, each a pair of token strings
   * @param addedTokens id -> literal content of added/special tokens (matched before BPE)
   * @param specialIds ids of special (control) tokens among the added ones
   * @param preTokenizerRegex word-splitting regex (HF/Oniguruma syntax, see {@link
   *     PreTokenizerPattern})
   * @param bosId beginning-of-sequence id, -1 if none
   * @param addBos whether prompts start with BOS (Llama 3: yes; Qwen2: no)
   * @param eosIds ids that end generation
   * @param source where it came from, for messages
   */
  public record Spec(
      List<String> tokens,
      List<String[]> merges,
      Map<Integer, String> addedTokens,
      Set<Integer> specialIds,
      String preTokenizerRegex,
      boolean nfc,
      boolean ignoreMerges,
      int bosId,
      boolean addBos,
      Set<Integer> eosIds,
      String source) {}

  private final Spec spec;
  private final Map<String, Integer> tokenToId = new HashMap<>();
  private final String[] idToToken;
  private final Map<String, Integer> mergeRank = new HashMap<>();
  private final Pattern preTokenizer;
  private final Pattern addedPattern;
  private final Map<String, Integer> addedToId = new HashMap<>();
  private final Map<String, int[]> wordCache = new ConcurrentHashMap<>();

  public BpeTokenizer(Spec spec) {
    this.spec = spec;
    int size = spec.tokens().size();
    for (int id : spec.addedTokens().keySet()) {
      size = Math.max(size, id + 1);
    }
    idToToken = new String[size];
    for (int i = 0; i < spec.tokens().size(); i++) {
      String t = spec.tokens().get(i);
      if (t != null) {
        idToToken[i] = t;
        tokenToId.putIfAbsent(t, i);
      }
    }
    for (int i = 0; i < spec.merges().size(); i++) {
      String[] m = spec.merges().get(i);
      mergeRank.putIfAbsent(m[0] + " " + m[1], i);
    }
    preTokenizer = PreTokenizerPattern.compile(spec.preTokenizerRegex(), spec.source());
    for (Map.Entry<Integer, String> e : spec.addedTokens().entrySet()) {
      addedToId.putIfAbsent(e.getValue(), e.getKey());
    }
    addedPattern =
        addedToId.isEmpty()
            ? null
            : Pattern.compile(
                addedToId.keySet().stream()
                    .sorted(Comparator.comparingInt(String::length).reversed())
                    .map(Pattern::quote)
                    .collect(Collectors.joining("|")));
  }

  public Spec spec() {
    return spec;
  }

  @Override
  public int vocabSize() {
    return idToToken.length;
  }

  public int bosId() {
    return spec.bosId();
  }

  public Set<Integer> eosIds() {
    return spec.eosIds();
  }

  /** The token string of an id: byte-level alphabet for normal tokens, literal for added. */
  public String tokenString(int id) {
    String added = spec.addedTokens().get(id);
    return added != null ? added : idToToken[id];
  }

  /** The id of a token string (byte-level alphabet or added-token literal), or -1. */
  public int idOf(String token) {
    Integer added = addedToId.get(token);
    if (added != null) {
      return added;
    }
    return tokenToId.getOrDefault(token, -1);
  }

  /** Whether {@link #encodePrompt} prepends BOS. */
  public boolean addsBos() {
    return spec.addBos() && spec.bosId() >= 0;
  }

  /** Prompt ids as the model expects them: BOS first when the model asks for it. */
  @Override
  public int[] encodePrompt(String text) {
    int[] ids = encode(text);
    if (!spec.addBos() || spec.bosId() < 0) {
      return ids;
    }
    int[] out = new int[ids.length + 1];
    out[0] = spec.bosId();
    System.arraycopy(ids, 0, out, 1, ids.length);
    return out;
  }

  @Override
  public int[] encode(String text) {
    List<Integer> out = new ArrayList<>();
    int pos = 0;
    if (addedPattern != null) {
      Matcher m = addedPattern.matcher(text);
      while (m.find()) {
        encodeOrdinary(text.substring(pos, m.start()), out);
        out.add(addedToId.get(m.group()));
        pos = m.end();
      }
    }
    encodeOrdinary(text.substring(pos), out);
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  private void encodeOrdinary(String text, List<Integer> out) {
    if (text.isEmpty()) {
      return;
    }
    if (spec.nfc()) {
      text = Normalizer.normalize(text, Normalizer.Form.NFC);
    }
    Matcher m = preTokenizer.matcher(text);
    int pos = 0;
    while (m.find()) {
      if (m.start() > pos) {
        encodeWord(text.substring(pos, m.start()), out);
      }
      if (m.end() > m.start()) {
        encodeWord(m.group(), out);
      }
      pos = m.end();
    }
    if (pos < text.length()) {
      encodeWord(text.substring(pos), out);
    }
  }

  private void encodeWord(String word, List<Integer> out) {
    int[] ids = wordCache.computeIfAbsent(word, this::bpe);
    for (int id : ids) {
      out.add(id);
    }
  }

  private int[] bpe(String word) {
    String symbols = ByteLevelAlphabet.encode(word.getBytes(StandardCharsets.UTF_8));
    if (spec.ignoreMerges()) {
      Integer whole = tokenToId.get(symbols);
      if (whole != null) {
        return new int[] {whole};
      }
    }
    List<String> parts = new ArrayList<>(symbols.length());
    for (int i = 0; i < symbols.length(); i++) {
      parts.add(String.valueOf(symbols.charAt(i)));
    }
    while (parts.size() > 1) {
      int bestRank = Integer.MAX_VALUE;
      int best = -1;
      for (int i = 0; i + 1 < parts.size(); i++) {
        Integer r = mergeRank.get(parts.get(i) + " " + parts.get(i + 1));
        if (r != null && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) {
        break;
      }
      // merge every non-overlapping occurrence of the best pair, left to right
      String a = parts.get(best);
      String b = parts.get(best + 1);
      List<String> merged = new ArrayList<>(parts.size());
      for (int i = 0; i < parts.size(); i++) {
        if (i + 1 < parts.size() && parts.get(i).equals(a) && parts.get(i + 1).equals(b)) {
          merged.add(a + b);
          i++;
        } else {
          merged.add(parts.get(i));
        }
      }
      parts = merged;
    }
    int[] ids = new int[parts.size()];
    for (int i = 0; i < ids.length; i++) {
      Integer id = tokenToId.get(parts.get(i));
      if (id == null) {
        throw new IllegalStateException(
            spec.source()
                + ": BPE produced '"
                + parts.get(i)
                + "', which is not in the vocabulary"
                + " (the vocabulary lacks a byte symbol or a merge result)");
      }
      ids[i] = id;
    }
    return ids;
  }

  /** UTF-8 bytes a token stands for (added tokens: their literal text). */
  public byte[] tokenBytes(int id) {
    if (id < 0) {
      throw new IllegalArgumentException("token id " + id + " is negative");
    }
    if (id >= idToToken.length) {
      // Models pad their embedding rows past the tokenizer's vocabulary (Qwen2: 151,936 rows
      // for 151,665 tokens). A sampler may still draw such an id; like an unused id inside
      // the vocabulary it stands for no text.
      return new byte[0];
    }
    String added = spec.addedTokens().get(id);
    if (added != null) {
      return added.getBytes(StandardCharsets.UTF_8);
    }
    String t = idToToken[id];
    if (t == null) {
      return new byte[0];
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(t.length());
    for (int i = 0; i < t.length(); i++) {
      int b = ByteLevelAlphabet.byteOf(t.charAt(i));
      if (b < 0) {
        // not a byte-level symbol (a hand-added token): take its own UTF-8
        out.writeBytes(String.valueOf(t.charAt(i)).getBytes(StandardCharsets.UTF_8));
      } else {
        out.write(b);
      }
    }
    return out.toByteArray();
  }

  @Override
  public String decode(int[] ids) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int id : ids) {
      out.writeBytes(tokenBytes(id));
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Override
  public StreamingDecoder streamingDecoder() {
    Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
    return new StreamingDecoder() {
      @Override
      public String push(int token) {
        return utf8.push(tokenBytes(token));
      }

      @Override
      public String finish() {
        return utf8.finish();
      }
    };
  }

  /** One line for inspect: kind, vocabulary, merges, pre-tokenizer, special tokens. */
  public String summary() {
    String pre =
        spec.preTokenizerRegex().equals(PreTokenizerPattern.LLAMA3)
            ? "llama3"
            : spec.preTokenizerRegex().equals(PreTokenizerPattern.QWEN2)
                ? "qwen2"
                : spec.preTokenizerRegex().equals(PreTokenizerPattern.GPT2) ? "gpt2" : "custom";
    return "byte-level BPE, vocab "
        + vocabSize()
        + ", "
        + spec.merges().size()
        + " merges, "
        + "pre-tokenizer "
        + pre
        + ", "
        + spec.addedTokens().size()
        + " added tokens, bos "
        + describe(spec.bosId())
        + (spec.addBos() ? " (prepended)" : " (not prepended)")
        + ", eos "
        + spec.eosIds().stream().sorted().map(this::describe).collect(Collectors.joining(" "));
  }

  private String describe(int id) {
    if (id < 0 || id >= idToToken.length) {
      return "none";
    }
    return id + "=" + tokenString(id);
  }
}
