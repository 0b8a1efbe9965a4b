package quasiroll.worker.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import quasiroll.cluster.ContentHash;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.common.synthetic.MarkovModel;
import quasiroll.v1.FinishReason;
import quasiroll.v1.SampleResult;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.runtime.SyntheticBackend;

class ShardDecoderTest {
  private static final WorkerSettings SETTINGS = WorkerSettings.from(QuasirollConfig.load(null));

  private static final String SPEC = "synthetic:markov?vocab=40&seed=5&eos=0.05&sharpness=1.5";

  private static Map<Integer, SampleResult> runShards(
      String spec, String sampler, int k, int threads, DecodeParams p, int[]... shards) {
    ModelHandle m = BackendLoader.load(spec, "cpu", SETTINGS);
    Map<Integer, SampleResult> out = new TreeMap<>();
    try (ShardDecoder d =
        new ShardDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, threads)) {
      for (int[] idx : shards) {
        d.run(
            new ResolvedShard(
                "job", "prompt-1", "hello t0", new int[0], k, idx, SamplerSpec.of(sampler), p, 77),
            r -> assertEquals(null, out.put(r.getIndex(), r)),
            () -> false);
      }
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"iid", "antithetic", "lattice", "stratified", "sobol", "rank1", "lhs"})
  void resultsDoNotDependOnShardSplitBatchOrThreads(String sampler) {
    DecodeParams p = DecodeParams.DEFAULT.withMaxNewTokens(30);
    int k = 16;
    Map<Integer, SampleResult> whole =
        runShards(SPEC, sampler, k, 1, p, IntStream.range(0, k).toArray());
    Map<Integer, SampleResult> split =
        runShards(
            SPEC,
            sampler,
            k,
            2,
            p,
            new int[] {15, 3, 7},
            new int[] {0, 2, 4, 6, 8, 10, 12, 14},
            new int[] {1, 5, 9, 11, 13});
    Map<Integer, SampleResult> singles =
        runShards(
            SPEC,
            sampler,
            k,
            1,
            p,
            IntStream.range(0, k).mapToObj(i -> new int[] {k - 1 - i}).toArray(int[][]::new));
    assertEquals(k, whole.size());
    assertEquals(whole, split);
    assertEquals(whole, singles);
    long distinct = whole.values().stream().map(SampleResult::getText).distinct().count();
    assertTrue(distinct > 1, "16 samples all identical: noise is not per index");
  }

  @Test
  void topLogprobsAreTheProcessedDistributionsBestAndChangeNoSample() {
    DecodeParams p =
        new DecodeParams(
            0.8,
            12,
            0.95,
            0.0,
            quasiroll.common.sampler.VocabOrder.ID,
            20,
            java.util.List.of(),
            java.util.List.of());
    int k = 8;
    int[] all = IntStream.range(0, k).toArray();
    Map<Integer, SampleResult> plain = runShards(SPEC, "lattice", k, 1, p, all);
    ModelHandle m = BackendLoader.load(SPEC, "cpu", SETTINGS);
    Map<Integer, SampleResult> withTop = new TreeMap<>();
    try (ShardDecoder d =
        new ShardDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 2)) {
      d.run(
          new ResolvedShard(
                  "job",
                  "prompt-1",
                  "hello t0",
                  new int[0],
                  k,
                  all,
                  SamplerSpec.of("lattice"),
                  p,
                  77)
              .withTopLogprobs(5),
          r -> withTop.put(r.getIndex(), r),
          () -> false);
    }
    for (int i = 0; i < k; i++) {
      SampleResult a = plain.get(i);
      SampleResult b = withTop.get(i);
      assertEquals(a, b.toBuilder().clearTopLogprobs().build(), "top logprobs changed sample " + i);
      assertEquals(b.getTokenIdsCount(), b.getTopLogprobsCount());
      for (int t = 0; t < b.getTokenIdsCount(); t++) {
        quasiroll.v1.TopLogprobs top = b.getTopLogprobs(t);
        assertTrue(top.getTokenIdsCount() >= 1 && top.getTokenIdsCount() <= 5, top.toString());
        for (int j = 1; j < top.getLogprobsCount(); j++) {
          assertTrue(
              top.getLogprobs(j - 1) >= top.getLogprobs(j), "not most probable first: " + top);
        }
        // The sampled token, when among the top 5, has exactly its processed logprob there; when
        // not, it is no more probable than the fifth.
        int at = top.getTokenIdsList().indexOf(b.getTokenIds(t));
        if (at >= 0) {
          assertEquals(b.getProcessedLogprobs(t), top.getLogprobs(at), 0f);
        } else {
          assertEquals(5, top.getTokenIdsCount());
          assertTrue(b.getProcessedLogprobs(t) <= top.getLogprobs(4));
        }
      }
    }
  }

  @Test
  void progressDeltasConcatenateToAPrefixOfTheTextAndChangeNoSample() {
    // Stop strings that occur in the synthetic tokenizer's text ("tN " words), so some
    // samples stop on them and progress must hold back text a stop string may still cut.
    DecodeParams p =
        new DecodeParams(
            1.0,
            0,
            1.0,
            0.0,
            quasiroll.common.sampler.VocabOrder.ID,
            40,
            java.util.List.of("t1 t", "3 t2"),
            java.util.List.of());
    int k = 16;
    int[] all = IntStream.range(0, k).toArray();
    Map<Integer, SampleResult> plain = runShards(SPEC, "lattice", k, 1, p, all);
    ModelHandle m = BackendLoader.load(SPEC, "cpu", SETTINGS);
    Map<Integer, SampleResult> streamed = new TreeMap<>();
    Map<Integer, StringBuilder> deltas = new TreeMap<>();
    int[] reports = {0};
    try (ShardDecoder d =
        new ShardDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      d.run(
          new ResolvedShard(
              "job", "prompt-1", "hello t0", new int[0], k, all, SamplerSpec.of("lattice"), p, 77),
          r -> streamed.put(r.getIndex(), r),
          new ProgressSink(
              pr -> {
                StringBuilder b = deltas.computeIfAbsent(pr.getIndex(), i -> new StringBuilder());
                assertEquals(b.length(), pr.getTextOffset(), "deltas out of order");
                assertTrue(
                    !streamed.containsKey(pr.getIndex()), "progress after the sample's result");
                b.append(pr.getText());
                reports[0]++;
              },
              2,
              1_000_000),
          () -> false);
    }
    assertEquals(plain, streamed);
    assertTrue(reports[0] > k, "expected several progress reports per sample, got " + reports[0]);
    boolean someStopped = false;
    for (int i = 0; i < k; i++) {
      String text = streamed.get(i).getText();
      String sent = deltas.getOrDefault(i, new StringBuilder()).toString();
      assertTrue(
          text.startsWith(sent),
          "sample " + i + ": deltas '" + sent + "' are not a prefix of '" + text + "'");
      someStopped |=
          streamed.get(i).getFinishReason() == quasiroll.v1.FinishReason.FINISH_REASON_STOP_STRING;
    }
    assertTrue(someStopped, "no sample hit a stop string: the hold-back is not exercised");
  }

  @Test
  void resultCarriesKeyHashAndLogprobs() {
    Map<Integer, SampleResult> r =
        runShards(SPEC, "lattice", 4, 1, DecodeParams.DEFAULT.withMaxNewTokens(8), new int[] {2});
    SampleResult s = r.get(2);
    assertEquals("job", s.getJobId());
    assertEquals(77, s.getNoiseKey().getJobSeed());
    assertEquals(KeyedHash.promptSeed(77, "prompt-1"), s.getNoiseKey().getPromptSeed());
    assertEquals(4, s.getNoiseKey().getK());
    assertEquals("lattice", s.getNoiseKey().getSampler());
    int[] ids = s.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
    float[] lp = new float[s.getProcessedLogprobsCount()];
    for (int i = 0; i < lp.length; i++) {
      lp[i] = s.getProcessedLogprobs(i);
    }
    assertArrayEquals(ContentHash.of(ids, lp), s.getContentHash().toByteArray());
    // raw logprobs are the model's log transition probabilities (temperature 1, no truncation)
    MarkovModel m = MarkovModel.parse(SPEC);
    int state = m.bosState();
    for (int t = 0; t < ids.length; t++) {
      assertEquals(Math.log(m.transition(state)[ids[t]]), s.getRawLogprobs(t), 1e-5);
      assertEquals(s.getRawLogprobs(t), s.getProcessedLogprobs(t), 1e-5); // T=1, no truncation
      if (ids[t] != 0) {
        state = m.stateAfter(ids[t]);
      }
    }
  }

  private static List<Integer> greedyPath(MarkovModel m, int steps) {
    List<Integer> path = new ArrayList<>();
    int state = m.bosState();
    for (int t = 0; t < steps; t++) {
      double[] p = m.transition(state);
      int best = 0;
      for (int j = 1; j < p.length; j++) {
        if (p[j] > p[best]) {
          best = j;
        }
      }
      path.add(best);
      state = m.stateAfter(best);
    }
    return path;
  }

  @Test
  void stopsOnEosStopIdsStopStringsLengthAndContext() {
    String spec = "synthetic:markov?vocab=40&seed=5&eos=0&sharpness=1.5&ctx=6";
    MarkovModel m = MarkovModel.parse(spec);
    List<Integer> greedy = greedyPath(m, 5);
    DecodeParams g = DecodeParams.DEFAULT.withTemperature(0).withMaxNewTokens(3);
    SampleResult len = runShards(spec, "iid", 1, 1, g, new int[] {0}).get(0);
    assertEquals(FinishReason.FINISH_REASON_LENGTH, len.getFinishReason());
    assertEquals(greedy.subList(0, 3), len.getTokenIdsList());
    assertEquals(
        "t" + greedy.get(0) + " t" + greedy.get(1) + " t" + greedy.get(2) + " ", len.getText());

    // prompt "hello t0" is 2 tokens, ctx 6: at most 4 generated
    SampleResult ctx = runShards(spec, "iid", 1, 1, g.withMaxNewTokens(50), new int[] {0}).get(0);
    assertEquals(FinishReason.FINISH_REASON_CONTEXT, ctx.getFinishReason());
    assertEquals(4, ctx.getTokenIdsCount());

    DecodeParams stopId =
        new DecodeParams(0, 0, 1, 0, VocabOrder.ID, 10, List.of(), List.of(greedy.get(1)));
    SampleResult eos = runShards(spec, "iid", 1, 1, stopId, new int[] {0}).get(0);
    assertEquals(FinishReason.FINISH_REASON_EOS, eos.getFinishReason());
    assertEquals(greedy.subList(0, 2), eos.getTokenIdsList());
    assertEquals("t" + greedy.get(0) + " ", eos.getText());

    String stopText = "t" + greedy.get(1) + " ";
    DecodeParams stopStr =
        new DecodeParams(0, 0, 1, 0, VocabOrder.ID, 10, List.of("zzz", stopText), List.of());
    SampleResult str = runShards(spec, "iid", 1, 1, stopStr, new int[] {0}).get(0);
    assertEquals(FinishReason.FINISH_REASON_STOP_STRING, str.getFinishReason());
    assertEquals(greedy.subList(0, 2), str.getTokenIdsList());
    assertEquals("t" + greedy.get(0) + " ", str.getText());
  }

  @Test
  void modelEosEndsTheSample() {
    String spec = "synthetic:markov?vocab=6&seed=2&eos=0.6&sharpness=0";
    Map<Integer, SampleResult> r =
        runShards(
            spec,
            "iid",
            8,
            1,
            DecodeParams.DEFAULT.withMaxNewTokens(100),
            IntStream.range(0, 8).toArray());
    for (SampleResult s : r.values()) {
      assertEquals(FinishReason.FINISH_REASON_EOS, s.getFinishReason());
      assertEquals(0, s.getTokenIds(s.getTokenIdsCount() - 1));
      assertTrue(!s.getText().contains("t0"));
    }
  }

  @Test
  void cancelledShardEmitsNothingMore() {
    ModelHandle m = BackendLoader.load(SPEC, "cpu", SETTINGS);
    List<SampleResult> out = new ArrayList<>();
    try (ShardDecoder d =
        new ShardDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      d.run(
          new ResolvedShard(
              "j",
              "p",
              "t1",
              new int[0],
              4,
              new int[] {0, 1, 2, 3},
              SamplerSpec.of("iid"),
              DecodeParams.DEFAULT,
              1),
          out::add,
          () -> true);
    }
    assertEquals(0, out.size());
    try (ShardDecoder d =
        new ShardDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      BadInputException e =
          assertThrows(
              BadInputException.class,
              () ->
                  d.run(
                      new ResolvedShard(
                          "j",
                          "p",
                          "t1",
                          new int[0],
                          4,
                          new int[] {0, 2, 0},
                          SamplerSpec.of("iid"),
                          DecodeParams.DEFAULT,
                          1),
                      out::add,
                      () -> false));
      assertTrue(e.getMessage().contains("repeats"), e.getMessage());
    }
  }

  /**
   * End to end through the decode loop: sample 3 of 8 under lattice, over 3000 prompt ids, follows
   * the synthetic model's exact sequence law (sequences up to 3 tokens). Chi-square, rejecting at p
   * < 1e-4 (the false-alarm rate of this fixed-seed test).
   */
  @Test
  void decodedSequencesFollowTheExactModelDistribution() {
    String spec = "synthetic:markov?vocab=4&seed=11&eos=0.3&sharpness=1";
    MarkovModel model = MarkovModel.parse(spec);
    SyntheticBackend backend = new SyntheticBackend(model);
    ModelHandle m = BackendLoader.load(spec, "cpu", SETTINGS);
    Map<String, Long> observed = new HashMap<>();
    try (ShardDecoder d =
        new ShardDecoder(backend, m.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      for (int r = 0; r < 3000; r++) {
        d.run(
            new ResolvedShard(
                "j",
                "p" + r,
                "t0",
                new int[0],
                8,
                new int[] {3},
                SamplerSpec.of("lattice"),
                DecodeParams.DEFAULT.withMaxNewTokens(3),
                99),
            s -> observed.merge(s.getTokenIdsList().toString(), 1L, Long::sum),
            () -> false);
      }
    }
    List<Double> e = new ArrayList<>();
    List<Long> o = new ArrayList<>();
    long seen = 0;
    for (String seq : allSequences(3)) {
      int[] ids =
          java.util.Arrays.stream(seq.substring(1, seq.length() - 1).split(", "))
              .mapToInt(Integer::parseInt)
              .toArray();
      e.add(model.sequenceProbability(model.bosState(), ids));
      o.add(observed.getOrDefault(seq, 0L));
      seen += o.get(o.size() - 1);
    }
    assertEquals(3000, seen, "drew sequences outside the enumerated support");
    double p =
        new ChiSquareTest()
            .chiSquareTest(
                e.stream().mapToDouble(Double::doubleValue).toArray(),
                o.stream().mapToLong(Long::longValue).toArray());
    assertTrue(p > 1e-4, "chi-square p=" + p);
  }

  private static List<String> allSequences(int maxLen) {
    List<String> out = new ArrayList<>();
    grow(new ArrayList<>(), maxLen, out);
    return out;
  }

  private static void grow(List<Integer> prefix, int left, List<String> out) {
    for (int j = 0; j < 4; j++) {
      List<Integer> s = new ArrayList<>(prefix);
      s.add(j);
      if (j == 0 || left == 1) {
        out.add(s.toString());
      } else {
        grow(s, left - 1, out);
      }
    }
  }

  @Test
  void loaderRefusesUnknownSpecsListingTheAcceptedForms() {
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> BackendLoader.load("/models/llama.bin", "cpu", SETTINGS));
    assertTrue(
        e.getMessage().contains("/models/llama.bin") && e.getMessage().contains("synthetic:markov"),
        e.getMessage());
  }
}
