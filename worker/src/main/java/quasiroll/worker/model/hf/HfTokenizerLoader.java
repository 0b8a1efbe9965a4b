package quasiroll.worker.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.tokenizer.BpeTokenizer;
import quasiroll.worker.tokenizer.PreTokenizerPattern;

/**
 * Builds a {@link BpeTokenizer} from a HF model directory: {@code tokenizer.json} (vocab, merges,
 * added tokens, normalizer, pre-tokenizer, post-processor) plus {@code tokenizer_config.json}
 * ({@code add_bos_token}, {@code bos_token}, {@code eos_token}). Supported: model "BPE" without
 * byte fallback; normalizer none or NFC; pre-tokenizer ByteLevel, or Sequence[Split(Regex,
 * Isolated), ByteLevel(use_regex=false)].
 */
public final class HfTokenizerLoader {
  private HfTokenizerLoader() {}

  /**
   * @param configBos BOS id from config.json/generation_config.json, or -1
   * @param configEos EOS ids from config.json/generation_config.json
   */
  public static BpeTokenizer load(Path dir, int configBos, Set<Integer> configEos) {
    Path file = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(file)) {
      throw new BadInputException(
          dir
              + ": tokenizer.json is missing (quasiroll reads HF fast-tokenizer files; a"
              + " tokenizer.model of SentencePiece is not supported)");
    }
    JsonNode root = JsonFiles.read(file);
    JsonNode model = root.path("model");
    String type = model.path("type").asText("");
    if (!type.equals("BPE")) {
      throw new BadInputException(
          file + ": tokenizer model type '" + type + "' is not supported (supported: BPE)");
    }
    if (model.path("byte_fallback").asBoolean(false)) {
      throw new BadInputException(
          file
              + ": BPE with byte_fallback (SentencePiece-style, e.g. Llama 2) is not supported"
              + " (supported: byte-level BPE as in Llama 3 / Qwen2)");
    }
    List<String> tokens = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      int id = e.getValue().asInt(-1);
      if (id < 0) {
        throw new BadInputException(file + ": vocab entry '" + e.getKey() + "' has a bad id");
      }
      while (tokens.size() <= id) {
        tokens.add(null);
      }
      tokens.set(id, e.getKey());
    }
    List<String[]> merges = new ArrayList<>();
    for (JsonNode m : model.path("merges")) {
      if (m.isTextual()) {
        String s = m.asText();
        int sp = s.indexOf(' ', 1);
        if (sp < 0) {
          throw new BadInputException(file + ": merge '" + s + "' is not 'left right'");
        }
        merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
      } else if (m.isArray() && m.size() == 2) {
        merges.add(new String[] {m.get(0).asText(), m.get(1).asText()});
      } else {
        throw new BadInputException(file + ": merge " + m + " is neither 'a b' nor [a, b]");
      }
    }
    Map<Integer, String> added = new LinkedHashMap<>();
    Set<Integer> special = new LinkedHashSet<>();
    for (JsonNode a : root.path("added_tokens")) {
      int id = a.path("id").asInt(-1);
      String content = a.path("content").asText(null);
      if (id < 0 || content == null) {
        throw new BadInputException(file + ": added token " + a + " needs id and content");
      }
      added.put(id, content);
      if (a.path("special").asBoolean(false)) {
        special.add(id);
      }
    }
    boolean nfc = normalizer(file, root.path("normalizer"));
    String regex = preTokenizerRegex(file, root.path("pre_tokenizer"));
    boolean ignoreMerges = model.path("ignore_merges").asBoolean(false);

    // BOS/EOS: tokenizer_config.json names them; config files give ids; a BOS in the
    // post-processor's template means the reference tokenizer prepends it.
    Path tcFile = dir.resolve("tokenizer_config.json");
    JsonNode tc = Files.isRegularFile(tcFile) ? JsonFiles.read(tcFile) : null;
    Map<String, Integer> lookup = new LinkedHashMap<>();
    for (int i = 0; i < tokens.size(); i++) {
      if (tokens.get(i) != null) {
        lookup.putIfAbsent(tokens.get(i), i);
      }
    }
    added.forEach((id, content) -> lookup.put(content, id));
    int bos = configBos;
    int tcBos = tc == null ? -1 : tokenId(tc.path("bos_token"), lookup);
    if (tcBos >= 0) {
      bos = tcBos;
    }
    Set<Integer> eos = new LinkedHashSet<>(configEos);
    if (tc != null) {
      int tcEos = tokenId(tc.path("eos_token"), lookup);
      if (tcEos >= 0) {
        eos.add(tcEos);
      }
    }
    boolean addBos = templateStartsWithSpecial(root.path("post_processor"), bos);
    if (tc != null && tc.has("add_bos_token") && tc.get("add_bos_token").isBoolean()) {
      addBos = tc.get("add_bos_token").asBoolean();
    }
    return new BpeTokenizer(
        new BpeTokenizer.Spec(
            Collections.unmodifiableList(tokens),
            merges,
            added,
            special,
            regex,
            nfc,
            ignoreMerges,
            bos,
            addBos && bos >= 0,
            Set.copyOf(eos),
            file.toString()));
  }

  private static int tokenId(JsonNode token, Map<String, Integer> lookup) {
    String s = token.isTextual() ? token.asText() : token.path("content").asText(null);
    if (s == null) {
      return -1;
    }
    return lookup.getOrDefault(s, -1);
  }

  private static boolean normalizer(Path file, JsonNode n) {
    if (n.isMissingNode() || n.isNull()) {
      return false;
    }
    String type = n.path("type").asText("");
    if (type.equals("NFC")) {
      return true;
    }
    if (type.equals("Sequence") && n.path("normalizers").isEmpty()) {
      return false;
    }
    throw new BadInputException(
        file + ": normalizer " + n + " is not supported (supported: none, NFC)");
  }

  private static String preTokenizerRegex(Path file, JsonNode p) {
    String type = p.path("type").asText("");
    if (type.equals("ByteLevel")) {
      if (p.path("add_prefix_space").asBoolean(false)) {
        throw new BadInputException(
            file + ": ByteLevel add_prefix_space=true is not supported (supported: false)");
      }
      if (!p.path("use_regex").asBoolean(true)) {
        throw new BadInputException(file + ": ByteLevel pre-tokenizer without a regex");
      }
      return PreTokenizerPattern.GPT2;
    }
    if (type.equals("Sequence")) {
      JsonNode list = p.path("pretokenizers");
      if (list.size() == 2
          && list.get(0).path("type").asText("").equals("Split")
          && list.get(1).path("type").asText("").equals("ByteLevel")
          && !list.get(1).path("use_regex").asBoolean(true)
          && !list.get(1).path("add_prefix_space").asBoolean(false)) {
        JsonNode split = list.get(0);
        String behavior = split.path("behavior").asText("");
        String regex = split.path("pattern").path("Regex").asText(null);
        if (regex != null && behavior.equals("Isolated") && !split.path("invert").asBoolean()) {
          return regex;
        }
      }
    }
    throw new BadInputException(
        file
            + ": pre_tokenizer "
            + abbreviate(p.toString())
            + " is not supported (supported:"
            + " ByteLevel, or Sequence[Split(Regex, Isolated), ByteLevel(use_regex=false)])");
  }

  private static boolean templateStartsWithSpecial(JsonNode post, int bos) {
    JsonNode processors =
        post.path("type").asText("").equals("Sequence") ? post.path("processors") : null;
    List<JsonNode> all = new ArrayList<>();
    if (processors != null) {
      processors.forEach(all::add);
    } else {
      all.add(post);
    }
    for (JsonNode pp : all) {
      if (pp.path("type").asText("").equals("TemplateProcessing")) {
        JsonNode first = pp.path("single").path(0);
        if (first.has("SpecialToken")) {
          String id = first.path("SpecialToken").path("id").asText("");
          JsonNode st = pp.path("special_tokens").path(id).path("ids");
          return bos >= 0 && st.size() == 1 && st.get(0).asInt() == bos;
        }
      }
    }
    return false;
  }

  private static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}
