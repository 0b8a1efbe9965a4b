package quasiroll.worker.model.gguf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.tokenizer.BpeTokenizer;
import quasiroll.worker.tokenizer.PreTokenizerPattern;

/**
 * Builds a {@link BpeTokenizer} from GGUF metadata written by llama.cpp's converter: {@code
 * tokenizer.ggml.model} must be "gpt2" (byte-level BPE); {@code tokens}, {@code merges} ("left
 * right"), {@code token_type} (3 = control and 4 = user-defined tokens are matched literally, like
 * HF added tokens), {@code pre} (selects the word-splitting regex; Llama 3's also means
 * ignore_merges and BOS by default, as in llama.cpp), {@code bos_token_id}, {@code eos_token_id},
 * {@code eot_token_id}, {@code eom_token_id} (all three end generation, as in llama.cpp), {@code
 * add_bos_token}.
 */
public final class GgufTokenizerLoader {
  private GgufTokenizerLoader() {}

  static final int TYPE_CONTROL = 3;
  static final int TYPE_USER_DEFINED = 4;

  public static BpeTokenizer load(GgufMetadata md, String source) {
    String model = md.getString("tokenizer.ggml.model", null);
    if (model == null) {
      throw new BadInputException(source + ": GGUF file has no tokenizer (tokenizer.ggml.model)");
    }
    if (!model.equals("gpt2")) {
      throw new BadInputException(
          source
              + ": tokenizer.ggml.model '"
              + model
              + "' is not supported (supported: gpt2,"
              + " the byte-level BPE of Llama 3 and Qwen2)");
    }
    List<String> tokens = md.getStringArray("tokenizer.ggml.tokens");
    int[] types =
        md.has("tokenizer.ggml.token_type")
            ? md.getIntArray("tokenizer.ggml.token_type")
            : new int[tokens.size()];
    if (types.length != tokens.size()) {
      throw new BadInputException(
          source
              + ": tokenizer.ggml.token_type has "
              + types.length
              + " entries but tokens has "
              + tokens.size());
    }
    List<String[]> merges = new ArrayList<>();
    if (md.has("tokenizer.ggml.merges")) {
      for (String m : md.getStringArray("tokenizer.ggml.merges")) {
        int sp = m.indexOf(' ', 1);
        if (sp < 0) {
          throw new BadInputException(source + ": merge '" + m + "' is not 'left right'");
        }
        merges.add(new String[] {m.substring(0, sp), m.substring(sp + 1)});
      }
    }
    Map<Integer, String> added = new LinkedHashMap<>();
    Set<Integer> special = new LinkedHashSet<>();
    List<String> normal = new ArrayList<>(tokens.size());
    for (int i = 0; i < tokens.size(); i++) {
      if (types[i] == TYPE_CONTROL || types[i] == TYPE_USER_DEFINED) {
        added.put(i, tokens.get(i));
        if (types[i] == TYPE_CONTROL) {
          special.add(i);
        }
        normal.add(null);
      } else {
        normal.add(tokens.get(i));
      }
    }
    String regex = PreTokenizerPattern.forGgufPre(md.getString("tokenizer.ggml.pre", null), source);
    int bos = md.getInt("tokenizer.ggml.bos_token_id", -1);
    Set<Integer> eos = new LinkedHashSet<>();
    for (String k :
        List.of(
            "tokenizer.ggml.eos_token_id",
            "tokenizer.ggml.eot_token_id",
            "tokenizer.ggml.eom_token_id")) {
      int id = md.getInt(k, -1);
      if (id >= 0) {
        eos.add(id);
      }
    }
    // llama-vocab.cpp: BPE vocabularies add BOS by default only with the Llama 3 pre-tokenizer;
    // tokenizer.ggml.add_bos_token overrides that either way.
    boolean addBos =
        md.getBool("tokenizer.ggml.add_bos_token", regex.equals(PreTokenizerPattern.LLAMA3));
    return new BpeTokenizer(
        new BpeTokenizer.Spec(
            normal,
            merges,
            added,
            special,
            regex,
            false,
            regex.equals(PreTokenizerPattern.LLAMA3),
            bos,
            addBos && bos >= 0,
            Set.copyOf(eos),
            source));
  }
}
