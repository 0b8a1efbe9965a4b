package quasiroll.worker.engine;

import quasiroll.cluster.ContentHash;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.NoiseFactory;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.TokenChoice;
import quasiroll.common.sampler.TopTokens;
import quasiroll.v1.FinishReason;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.SampleProgress;
import quasiroll.v1.SampleResult;
import quasiroll.v1.TopLogprobs;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.DeviceChoices;
import quasiroll.worker.runtime.DeviceSampling;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelInfo;
import quasiroll.worker.tokenizer.Tokenizer;

/**
 * The decode loop every backend shares: one shard (some sample indices of one prompt) decoded
 * as one batch over one prefilled session.
 *
 * <p>Per step, each active sample's token comes from {@link CoupledTokenSampler} with that
 * sample's own noise ({@code noises.open(spec, promptSeed(jobSeed, promptId), index, k)}), so
 * a sample's result is a pure function of its key and its own logits: it does not depend on
 * how the k indices are split into shards, on which other samples share the batch, or on the
 * thread count (rows are independent; threads only split rows).
 *
 * <p>Stopping, checked after each token in this order: an EOS id or stop token id (finish
 * EOS; the token and its logprobs are kept, its text is not added); a stop string in the
 * generated text (finish STOP_STRING; text cut before the earliest stop string, tokens kept);
 * max new tokens (LENGTH); the context length (CONTEXT). Finished samples leave the batch
 * (their cache is released) and are emitted at once, in completion order.
 */
public final class ShardDecoder implements ShardRunner, AutoCloseable {
  private final ModelBackend backend;
  private final Tokenizer tokenizer;
  private final NoiseFactory noises;
  private final ForkJoinPool pool;
  private final ThreadLocal<CoupledTokenSampler> samplers = ThreadLocal.withInitial(CoupledTokenSampler::new);

  /** @param threads threads selecting tokens in parallel (1 = on the calling thread) */
  public ShardDecoder(ModelBackend backend, Tokenizer tokenizer, NoiseFactory noises, int threads) {
    if (threads < 1) {
      throw new BadInputException("threads " + threads + " is invalid: expected >= 1");
    }
    this.backend = backend;
    this.tokenizer = tokenizer;
    this.noises = noises;
    this.pool = threads == 1 ? null : new ForkJoinPool(threads);
  }

  @Override
  public int vocabSize() {
    return backend.info().vocabSize();
  }

  @Override
  public void run(ResolvedShard shard, Consumer<SampleResult> out, BooleanSupplier cancelled) {
    run(shard, out, null, cancelled);
  }

  @Override
  public void run(ResolvedShard shard, Consumer<SampleResult> out, ProgressSink progress, BooleanSupplier cancelled) {
    ModelInfo info = backend.info();
    DecodeParams params = shard.decode();
    int[] prompt = shard.promptTokens().length > 0
        ? shard.promptTokens()
        : tokenizer.encodePrompt(shard.promptText() == null ? "" : shard.promptText());
    if (prompt.length == 0) {
      throw new BadInputException("prompt '" + shard.promptId() + "' is empty after tokenization");
    }
    for (int t : prompt) {
      if (t < 0 || t >= info.vocabSize()) {
        throw new BadInputException("prompt '" + shard.promptId() + "' has token id " + t
            + ": expected ids in [0, " + info.vocabSize() + ") (the model's vocabulary)");
      }
    }
    int n = shard.indices().length;
    if (n == 0) {
      return;
    }
    int room = info.contextLength() - prompt.length;
    if (room < 1) {
      throw new BadInputException("prompt '" + shard.promptId() + "' has " + prompt.length
          + " tokens: the context length " + info.contextLength() + " leaves no room to generate");
    }
    if (IntStream.of(shard.indices()).distinct().count() != n) {
      throw new BadInputException("shard of prompt '" + shard.promptId() + "' repeats a sample index: "
          + Arrays.toString(shard.indices()));
    }
    long promptSeed = KeyedHash.promptSeed(shard.jobSeed(), shard.promptId());
    Set<Integer> stopIds = new HashSet<>(info.eosTokenIds());
    stopIds.addAll(params.stopTokenIds());
    Sample[] samples = new Sample[n];
    for (int j = 0; j < n; j++) {
      samples[j] = new Sample(j, shard.indices()[j], noises.open(shard.sampler(), promptSeed, shard.indices()[j], shard.k()),
          tokenizer.streamingDecoder());
    }
    int maxNew = Math.min(params.maxNewTokens(), room);
    int vocab = info.vocabSize();
    try (DecodeSession session = backend.open(prompt, n, maxNew)) {
      // Top logprobs need the logits row on the host: such shards take the host path.
      int topN = shard.topLogprobs();
      DeviceSampling device = topN == 0 && session instanceof DeviceSampling ds && ds.samplesOnDevice(params)
          ? ds : null;
      TopTokens[] tops = new TopTokens[n];
      float[] first = device != null ? null : session.promptLogits();
      float[] logits = device != null ? null : new float[n * vocab];
      long[] codes = new long[n];
      DeviceChoices deviceChoices = DeviceChoices.allocate(n);
      int[] active = IntStream.range(0, n).toArray();
      int count = n;
      boolean firstStep = true;
      TokenChoice[] choices = new TokenChoice[n];
      int[] seqs = new int[n];
      int[] toks = new int[n];
      while (count > 0) {
        if (cancelled.getAsBoolean()) {
          return;
        }
        int m = count;
        int[] act = active;
        if (device != null) {
          // The logits stay on the accelerator; the same choices come back (DeviceSampling).
          for (int r = 0; r < m; r++) {
            codes[r] = samples[act[r]].noise.code();
          }
          device.sample(m, codes, params, deviceChoices);
          for (int r = 0; r < m; r++) {
            samples[act[r]].noise.advance(deviceChoices.lo()[r], deviceChoices.width()[r]);
            choices[r] = new TokenChoice(deviceChoices.tokens()[r],
                deviceChoices.rawLogprob()[r], deviceChoices.processedLogprob()[r]);
          }
        } else {
          float[] rows = firstStep ? first : logits;
          boolean shared = firstStep;
          selectAll(m, r -> {
            CoupledTokenSampler sampler = samplers.get();
            choices[r] = sampler.select(rows, shared ? 0 : r * vocab, vocab, params, samples[act[r]].noise);
            if (topN > 0) {
              tops[r] = sampler.topTokens(rows, shared ? 0 : r * vocab, vocab, params, topN);
            }
          });
        }
        int next = 0;
        for (int r = 0; r < m; r++) {
          Sample s = samples[act[r]];
          if (topN > 0) {
            s.tops.add(tops[r]);
          }
          FinishReason reason = s.accept(choices[r], stopIds, params, prompt.length, info.contextLength());
          if (reason != null) {
            session.release(s.sequence);
            out.accept(s.result(shard, promptSeed, reason));
          } else {
            seqs[next] = s.sequence;
            toks[next] = choices[r].token();
            active[next++] = s.sequence;
          }
        }
        count = next;
        firstStep = false;
        if (progress != null) {
          long now = System.nanoTime();
          for (int r = 0; r < count; r++) {
            samples[active[r]].report(shard, params, progress, now);
          }
        }
        if (count > 0) {
          if (cancelled.getAsBoolean()) {
            return;
          }
          if (device != null) {
            device.stepOnDevice(seqs, toks, count);
          } else {
            session.step(seqs, toks, count, logits);
          }
        }
      }
    }
  }

  private void selectAll(int m, java.util.function.IntConsumer body) {
    if (pool == null || m < 2) {
      for (int r = 0; r < m; r++) {
        body.accept(r);
      }
      return;
    }
    try {
      pool.submit(() -> IntStream.range(0, m).parallel().forEach(body)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while selecting tokens", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(c);
    }
  }

  /** Stops the selection threads (if any). */
  @Override
  public void close() {
    if (pool != null) {
      pool.shutdown();
    }
  }

  /** The short name plus sorted options, e.g. {@code sobol?scramble=owen}: enough to replay. */
  static String samplerName(SamplerSpec spec) {
    if (spec.options().isEmpty()) {
      return spec.coupling().shortName();
    }
    return spec.coupling().shortName() + "?" + new TreeMap<>(spec.options()).entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("&"));
  }

  /** One sample's growing state. */
  private static final class Sample {
    final int sequence;
    final int index;
    final SampleNoise noise;
    final Tokenizer.StreamingDecoder decoder;
    final List<Integer> tokens = new ArrayList<>();
    final List<Float> raw = new ArrayList<>();
    final List<Float> processed = new ArrayList<>();
    final List<TopTokens> tops = new ArrayList<>();
    final StringBuilder text = new StringBuilder();
    private int reportedChars;
    private int reportedTokens;
    private long reportedAtNanos = System.nanoTime();

    /**
     * Reports the text that is final so far, when due: all of it except the longest suffix
     * that begins some stop string (a stop string completed later would cut it there).
     */
    void report(ResolvedShard shard, DecodeParams p, ProgressSink sink, long nowNanos) {
      if (tokens.size() - reportedTokens < sink.everyTokens()
          && nowNanos - reportedAtNanos < sink.everyMillis() * 1_000_000L) {
        return;
      }
      int stable = text.length() - heldBack(p);
      if (stable <= reportedChars) {
        return;
      }
      sink.consumer().accept(SampleProgress.newBuilder()
          .setPromptId(shard.promptId())
          .setIndex(index)
          .setTextOffset(reportedChars)
          .setText(text.substring(reportedChars, stable))
          .setTokens(tokens.size())
          .build());
      reportedChars = stable;
      reportedTokens = tokens.size();
      reportedAtNanos = nowNanos;
    }

    private boolean endsWith(String stop, int len) {
      int from = text.length() - len;
      for (int i = 0; i < len; i++) {
        if (text.charAt(from + i) != stop.charAt(i)) {
          return false;
        }
      }
      return true;
    }

    /** Length of the longest suffix of the text that is a proper prefix of a stop string. */
    private int heldBack(DecodeParams p) {
      int held = 0;
      for (String stop : p.stopStrings()) {
        for (int len = Math.min(stop.length() - 1, text.length()); len > held; len--) {
          if (endsWith(stop, len)) {
            held = len;
            break;
          }
        }
      }
      return held;
    }

    Sample(int sequence, int index, SampleNoise noise, Tokenizer.StreamingDecoder decoder) {
      this.sequence = sequence;
      this.index = index;
      this.noise = noise;
      this.decoder = decoder;
    }

    /** Records a token; returns why the sample finished, or null to continue. */
    FinishReason accept(TokenChoice c, Set<Integer> stopIds, DecodeParams p, int promptLength, int contextLength) {
      tokens.add(c.token());
      raw.add(c.rawLogprob());
      processed.add(c.processedLogprob());
      if (stopIds.contains(c.token())) {
        return appendText(decoder.finish(), p) ? FinishReason.FINISH_REASON_STOP_STRING : FinishReason.FINISH_REASON_EOS;
      }
      if (appendText(decoder.push(c.token()), p)) {
        return FinishReason.FINISH_REASON_STOP_STRING;
      }
      boolean length = tokens.size() >= p.maxNewTokens();
      boolean context = promptLength + tokens.size() >= contextLength;
      if (length || context) {
        if (appendText(decoder.finish(), p)) {
          return FinishReason.FINISH_REASON_STOP_STRING;
        }
        return length ? FinishReason.FINISH_REASON_LENGTH : FinishReason.FINISH_REASON_CONTEXT;
      }
      return null;
    }

    /** Appends text; if a stop string now appears, cuts the text before it and returns true. */
    private boolean appendText(String piece, DecodeParams p) {
      if (piece.isEmpty()) {
        return false;
      }
      int before = text.length();
      text.append(piece);
      int cut = -1;
      for (String stop : p.stopStrings()) {
        if (stop.isEmpty()) {
          continue;
        }
        int from = Math.max(0, before - stop.length() + 1);
        int at = text.indexOf(stop, from);
        if (at >= 0 && (cut < 0 || at < cut)) {
          cut = at;
        }
      }
      if (cut >= 0) {
        text.setLength(cut);
        return true;
      }
      return false;
    }

    SampleResult result(ResolvedShard shard, long promptSeed, FinishReason reason) {
      int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
      float[] lp = new float[processed.size()];
      for (int i = 0; i < lp.length; i++) {
        lp[i] = processed.get(i);
      }
      SampleResult.Builder b = SampleResult.newBuilder();
      for (TopTokens t : tops) {
        TopLogprobs.Builder tb = TopLogprobs.newBuilder();
        for (int i = 0; i < t.ids().length; i++) {
          tb.addTokenIds(t.ids()[i]).addLogprobs(t.logprobs()[i]);
        }
        b.addTopLogprobs(tb);
      }
      return b
          .setJobId(shard.jobId() == null ? "" : shard.jobId())
          .setPromptId(shard.promptId())
          .setIndex(index)
          .addAllTokenIds(tokens)
          .setText(text.toString())
          .addAllRawLogprobs(raw)
          .addAllProcessedLogprobs(processed)
          .setFinishReason(reason)
          .setNoiseKey(NoiseKey.newBuilder()
              .setJobSeed(shard.jobSeed())
              .setPromptId(shard.promptId())
              .setPromptSeed(promptSeed)
              .setIndex(index)
              .setK(shard.k())
              .setSampler(samplerName(shard.sampler())))
          .setNoiseNote(noise.note())
          .setContentHash(ByteString.copyFrom(ContentHash.of(ids, lp)))
          .build();
    }
  }
}
