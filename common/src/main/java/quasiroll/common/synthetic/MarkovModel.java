package quasiroll.common.synthetic;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.KeyedHash;

/**
 * A synthetic language model whose exact distribution is known: a seeded random first-order Markov
 * chain over V tokens, used to test that samplers are exact and to run the whole system without
 * weights. Spec: {@code synthetic:markov?vocab=V&seed=S&eos=P&sharpness=A&ctx=N} (every parameter
 * optional, any order):
 *
 * <ul>
 *   <li>{@code vocab} (int, 2..262144, default 32): tokens 0..V-1; token 0 is EOS.
 *   <li>{@code seed} (64-bit integer, default 0): selects the chain.
 *   <li>{@code eos} (real in [0, 1), default 0.1): probability of EOS from every state (exact up to
 *       the float rounding of its logit; 0 gives EOS logit -infinity, never drawn).
 *   <li>{@code sharpness} (real in [0, 100], default 2): scale of the non-EOS logits; 0 = uniform
 *       over tokens 1..V-1, larger = lower entropy.
 *   <li>{@code ctx} (int, 2..2^30, default 4096): the context length (prompt + generated).
 * </ul>
 *
 * <p>States: {@link #bosState()} (= V) starts the chain; after emitting token t >= 1 the state is
 * t. Non-EOS logit of token j in state s: sharpness * g(s, j), with g an Irwin-Hall(4)
 * approximately standard normal built from one keyed hash of (seed, s, j) (add/multiply only, so
 * logits are bit-identical everywhere). EOS logit: ln(eos / (1 - eos) * sum_j exp(l_j)), so that
 * softmax gives EOS probability eos. {@link #transition} is the softmax in double (StrictMath), and
 * {@link #sequenceProbability} multiplies transitions: both exact functions of the float logits.
 */
public final class MarkovModel {
  public static final String PREFIX = "synthetic:markov";
  public static final List<String> PARAMETERS = List.of("vocab", "seed", "eos", "sharpness", "ctx");
  private static final long DOMAIN_LOGIT = 0x4d41_524b_4f56_0001L; // "MARKOV\0\1"
  private static final int MAX_VOCAB = 262_144;

  private final String spec;
  private final int vocab;
  private final long seed;
  private final double eos;
  private final double sharpness;
  private final int contextLength;

  public MarkovModel(int vocab, long seed, double eos, double sharpness, int contextLength) {
    if (vocab < 2 || vocab > MAX_VOCAB) {
      throw new BadInputException(
          "synthetic model parameter vocab=" + vocab + " is invalid: expected 2.." + MAX_VOCAB);
    }
    if (!(eos >= 0 && eos < 1)) {
      throw new BadInputException(
          "synthetic model parameter eos=" + eos + " is invalid: expected a probability in [0, 1)");
    }
    if (!(sharpness >= 0 && sharpness <= 100)) {
      throw new BadInputException(
          "synthetic model parameter sharpness="
              + sharpness
              + " is invalid: expected a number in [0, 100]");
    }
    if (contextLength < 2 || contextLength > (1 << 30)) {
      throw new BadInputException(
          "synthetic model parameter ctx=" + contextLength + " is invalid: expected 2..1073741824");
    }
    this.vocab = vocab;
    this.seed = seed;
    this.eos = eos;
    this.sharpness = sharpness;
    this.contextLength = contextLength;
    this.spec =
        PREFIX
            + "?vocab="
            + vocab
            + "&seed="
            + seed
            + "&eos="
            + eos
            + "&sharpness="
            + sharpness
            + "&ctx="
            + contextLength;
  }

  /** Parses {@code synthetic:markov[?key=value&...]}; errors name the bad parameter. */
  public static MarkovModel parse(String spec) {
    if (spec == null || !(spec.equals(PREFIX) || spec.startsWith(PREFIX + "?"))) {
      throw new BadInputException(
          "synthetic model '"
              + spec
              + "' is unknown: expected "
              + PREFIX
              + "?vocab=V&seed=S&eos=P&sharpness=A&ctx=N (all parameters optional)");
    }
    Map<String, String> values = new LinkedHashMap<>();
    if (spec.length() > PREFIX.length() + 1) {
      for (String pair : spec.substring(PREFIX.length() + 1).split("&")) {
        int eq = pair.indexOf('=');
        String key = eq < 0 ? pair : pair.substring(0, eq);
        if (!PARAMETERS.contains(key)) {
          throw new BadInputException(
              "synthetic model parameter '" + key + "' is unknown: expected one of " + PARAMETERS);
        }
        if (eq < 0) {
          throw new BadInputException(
              "synthetic model parameter '" + key + "' has no value: write " + key + "=...");
        }
        values.put(key, pair.substring(eq + 1));
      }
    }
    return new MarkovModel(
        (int) parseLong(values, "vocab", 32, 2, MAX_VOCAB),
        parseLong(values, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE),
        parseDouble(values, "eos", 0.1),
        parseDouble(values, "sharpness", 2.0),
        (int) parseLong(values, "ctx", 4096, 2, 1 << 30));
  }

  private static long parseLong(Map<String, String> v, String key, long dflt, long min, long max) {
    String s = v.get(key);
    if (s == null) {
      return dflt;
    }
    try {
      long x = Long.parseLong(s);
      if (x < min || x > max) {
        throw new NumberFormatException();
      }
      return x;
    } catch (NumberFormatException e) {
      throw new BadInputException(
          "synthetic model parameter "
              + key
              + "="
              + s
              + " is invalid: expected an integer in "
              + min
              + ".."
              + max);
    }
  }

  private static double parseDouble(Map<String, String> v, String key, double dflt) {
    String s = v.get(key);
    if (s == null) {
      return dflt;
    }
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new BadInputException(
          "synthetic model parameter " + key + "=" + s + " is invalid: expected a number");
    }
  }

  /** Canonical spec with every parameter spelled out. */
  public String spec() {
    return spec;
  }

  public int vocabSize() {
    return vocab;
  }

  public int contextLength() {
    return contextLength;
  }

  public int eosToken() {
    return 0;
  }

  public int bosState() {
    return vocab;
  }

  /** The state after a prompt: its last token's state, or BOS if that token is EOS (t0). */
  public int startState(int[] prompt) {
    if (prompt.length == 0) {
      throw new BadInputException(
          "prompt is empty: the synthetic model needs at least one token (e.g. 't0')");
    }
    int last = prompt[prompt.length - 1];
    checkToken(last);
    return last == 0 ? bosState() : last;
  }

  /** The state after emitting {@code token} (EOS ends the chain: no next state). */
  public int stateAfter(int token) {
    checkToken(token);
    if (token == 0) {
      throw new IllegalArgumentException("EOS ends the chain; it has no next state");
    }
    return token;
  }

  private void checkToken(int token) {
    if (token < 0 || token >= vocab) {
      throw new BadInputException(
          "token id " + token + " is outside the synthetic vocabulary [0, " + vocab + ")");
    }
  }

  private void checkState(int state) {
    if (state < 1 || state > vocab) {
      throw new IllegalArgumentException("state " + state + " outside 1.." + vocab);
    }
  }

  /** Writes the logits of {@code state} to {@code out[off .. off + V)}. */
  public void logits(int state, float[] out, int off) {
    checkState(state);
    double sumExp = 0;
    for (int j = 1; j < vocab; j++) {
      long h = KeyedHash.hash(seed, DOMAIN_LOGIT, state, j);
      double g = 0;
      for (int b = 0; b < 4; b++) {
        g += (((h >>> (16 * b)) & 0xFFFF) + 0.5) / 65536.0;
      }
      float l = (float) (sharpness * (g - 2.0) * 1.7320508075688772);
      out[off + j] = l;
      sumExp += StrictMath.exp(l);
    }
    out[off] =
        eos == 0 ? Float.NEGATIVE_INFINITY : (float) StrictMath.log(eos / (1 - eos) * sumExp);
  }

  public float[] logits(int state) {
    float[] out = new float[vocab];
    logits(state, out, 0);
    return out;
  }

  /** Exact next-token probabilities of {@code state}: softmax of its logits in double. */
  public double[] transition(int state) {
    float[] l = logits(state);
    double max = Double.NEGATIVE_INFINITY;
    for (float x : l) {
      max = Math.max(max, x);
    }
    double[] p = new double[vocab];
    double sum = 0;
    for (int j = 0; j < vocab; j++) {
      p[j] = StrictMath.exp(l[j] - max);
      sum += p[j];
    }
    for (int j = 0; j < vocab; j++) {
      p[j] /= sum;
    }
    return p;
  }

  /** Probability that the chain, from {@code startState}, emits exactly {@code tokens} first. */
  public double sequenceProbability(int startState, int[] tokens) {
    double p = 1;
    int state = startState;
    for (int t = 0; t < tokens.length; t++) {
      p *= transition(state)[tokens[t]];
      if (t + 1 < tokens.length) {
        state = stateAfter(tokens[t]);
      }
    }
    return p;
  }
}
