package quasiroll.worker.engine;

import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.NoiseFactory;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.TokenChoice;
import quasiroll.common.sampler.TopTokens;
import quasiroll.v1.FinishReason;
import quasiroll.v1.SampleResult;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.DeviceChoices;
import quasiroll.worker.runtime.DeviceSampling;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelInfo;
import quasiroll.worker.tokenizer.Tokenizer;

/**
 * The decode loop every backend shares: one shard (some sample indices of one prompt) decoded as
 * one batch over one prefilled session.
 *
 * <p>Per step, each active sample's token comes from {@link CoupledTokenSampler} with that sample's
 * own noise ({@code noises.open(spec, promptSeed(jobSeed, promptId), index, k)}), so a sample's
 * result is a pure function of its key and its own logits: it does not depend on how the k indices
 * are split into shards, on which other samples share the batch, or on the thread count (rows are
 * independent; threads only split rows).
 *
 * <p>Stopping, checked after each token in this order: an EOS id or stop token id (finish EOS; the
 * token and its logprobs are kept, its text is not added); a stop string in the generated text
 * (finish STOP_STRING; text cut before the earliest stop string, tokens kept); max new tokens
 * (LENGTH); the context length (CONTEXT). Finished samples leave the batch (their cache is
 * released) and are emitted at once, in completion order.
 */
public final class ShardDecoder implements AbortableShardRunner, AutoCloseable {
  private final ModelBackend backend;
  private final Tokenizer tokenizer;
  private final NoiseFactory noises;
  private final ForkJoinPool pool;
  private final ThreadLocal<CoupledTokenSampler> samplers =
      ThreadLocal.withInitial(CoupledTokenSampler::new);

  /**
   * @param threads threads selecting tokens in parallel (1 = on the calling thread)
   */
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
  public void run(
      ResolvedShard shard,
      Consumer<SampleResult> out,
      ProgressSink progress,
      BooleanSupplier cancelled,
      BooleanSupplier aborted) {
    ModelInfo info = backend.info();
    ShardPlan plan = ShardPlan.of(shard, info, tokenizer);
    if (plan == null) {
      return;
    }
    DecodeParams params = plan.params();
    int[] prompt = plan.prompt();
    long promptSeed = plan.promptSeed();
    Set<Integer> stopIds = plan.stopIds();
    int maxNew = plan.maxNew();
    SampleState[] samples = plan.samples(noises, tokenizer);
    int n = samples.length;
    int vocab = info.vocabSize();
    if (shard.promptLogprobs() >= 0) {
      PromptScores scores = PromptScores.compute(backend, prompt, shard.promptLogprobs());
      for (SampleState s : samples) {
        s.promptScores = scores;
      }
      if (shard.promptOnly()) {
        for (SampleState s : samples) {
          out.accept(s.result(shard, promptSeed, FinishReason.FINISH_REASON_LENGTH));
        }
        return;
      }
    }
    try (DecodeSession session = backend.open(prompt, n, maxNew)) {
      // Top logprobs need the logits row on the host: such shards take the host path.
      int topN = shard.topLogprobs();
      DeviceSampling device =
          topN == 0 && session instanceof DeviceSampling ds && ds.samplesOnDevice(params)
              ? ds
              : null;
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
        if (aborted.getAsBoolean()) {
          // A newer policy was published in abort mode: what each sample has so far is
          // returned as it stands, tagged with the version that produced it.
          for (int r = 0; r < count; r++) {
            out.accept(samples[active[r]].aborted(shard, promptSeed, params));
          }
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
            choices[r] =
                new TokenChoice(
                    deviceChoices.tokens()[r],
                    deviceChoices.rawLogprob()[r],
                    deviceChoices.processedLogprob()[r]);
          }
        } else {
          float[] rows = firstStep ? first : logits;
          boolean shared = firstStep;
          selectAll(
              m,
              r -> {
                CoupledTokenSampler sampler = samplers.get();
                choices[r] =
                    sampler.select(
                        rows, shared ? 0 : r * vocab, vocab, params, samples[act[r]].noise);
                if (topN > 0) {
                  tops[r] = sampler.topTokens(rows, shared ? 0 : r * vocab, vocab, params, topN);
                }
              });
        }
        int next = 0;
        for (int r = 0; r < m; r++) {
          SampleState s = samples[act[r]];
          if (topN > 0) {
            s.tops.add(tops[r]);
          }
          FinishReason reason =
              s.accept(choices[r], stopIds, params, prompt.length, info.contextLength());
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
    return spec.coupling().shortName()
        + "?"
        + new TreeMap<>(spec.options())
            .entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("&"));
  }
}
