package quasiroll.worker.engine;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import quasiroll.cluster.ContentHash;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.TokenChoice;
import quasiroll.common.sampler.TopTokens;
import quasiroll.v1.FinishReason;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.SampleProgress;
import quasiroll.v1.SampleResult;
import quasiroll.v1.TopLogprobs;
import quasiroll.worker.tokenizer.Tokenizer;

/**
 * One sample's growing state in a decode loop: tokens, logprobs (and top logprobs, when asked),
 * text, noise, and how much text was already reported as progress. Shared by every decode loop, so
 * every loop applies the same stopping rules and builds the same result.
 */
final class SampleState {
  final int sequence;
  final int index;
  final SampleNoise noise;
  final Tokenizer.StreamingDecoder decoder;
  final List<Integer> tokens = new ArrayList<>();
  final List<Float> raw = new ArrayList<>();
  final List<Float> processed = new ArrayList<>();
  final List<TopTokens> tops = new ArrayList<>();
  final StringBuilder text = new StringBuilder();

  /** The prompt's scores when the shard asked for them (the same object for every sample). */
  PromptScores promptScores;

  private int reportedChars;
  private int reportedTokens;
  private long reportedAtNanos = System.nanoTime();

  SampleState(int sequence, int index, SampleNoise noise, Tokenizer.StreamingDecoder decoder) {
    this.sequence = sequence;
    this.index = index;
    this.noise = noise;
    this.decoder = decoder;
  }

  /** Records a token; returns why the sample finished, or null to continue. */
  FinishReason accept(
      TokenChoice c, Set<Integer> stopIds, DecodeParams p, int promptLength, int contextLength) {
    tokens.add(c.token());
    raw.add(c.rawLogprob());
    processed.add(c.processedLogprob());
    if (stopIds.contains(c.token())) {
      return appendText(decoder.finish(), p)
          ? FinishReason.FINISH_REASON_STOP_STRING
          : FinishReason.FINISH_REASON_EOS;
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

  /**
   * Reports the text that is final so far, when due: all of it except the longest suffix that
   * begins some stop string (a stop string completed later would cut it there).
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
    sink.consumer()
        .accept(
            SampleProgress.newBuilder()
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

  /** The sample as it stands, cut short (a policy published in abort mode went live). */
  SampleResult aborted(ResolvedShard shard, long promptSeed, DecodeParams p) {
    appendText(decoder.finish(), p);
    return result(shard, promptSeed, FinishReason.FINISH_REASON_ABORTED);
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
    if (promptScores != null) {
      promptScores.addTo(b);
    }
    return b.setJobId(shard.jobId() == null ? "" : shard.jobId())
        .setPromptId(shard.promptId())
        .setIndex(index)
        .addAllTokenIds(tokens)
        .setText(text.toString())
        .addAllRawLogprobs(raw)
        .addAllProcessedLogprobs(processed)
        .setFinishReason(reason)
        .setPolicyVersion(shard.policyVersion())
        .setNoiseKey(
            NoiseKey.newBuilder()
                .setJobSeed(shard.jobSeed())
                .setPromptId(shard.promptId())
                .setPromptSeed(promptSeed)
                .setIndex(index)
                .setK(shard.k())
                .setSampler(ShardDecoder.samplerName(shard.sampler())))
        .setNoiseNote(noise.note())
        .setContentHash(ByteString.copyFrom(ContentHash.of(ids, lp)))
        .build();
  }
}
