package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobState;
import quasiroll.v1.SampleResult;

/**
 * A generation job as OpenAI-style Server-Sent Events: one {@code data: {chunk}} per piece of text
 * as the job's event log receives it, a usage chunk when asked for (stream_options.include_usage),
 * then {@code data: [DONE]}. The stream reads the event log with back-pressure (the next event is
 * fetched only when the client took the previous one); a client that goes away before the job ends
 * cancels the job. A TCP peer that hung up is only seen when the server writes, so a stream with
 * nothing to say (a queued job, a slow prefill) sends an SSE comment line every
 * quasiroll.http.stream-keep-alive; clients ignore comments, and the disconnect is noticed within
 * about two such intervals.
 */
final class SseStreams {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ByteString DONE = ByteString.fromString("data: [DONE]\n\n");
  private static final ByteString KEEP_ALIVE = ByteString.fromString(": keep-alive\n\n");

  /** Marks the end of the event log inside the stream, so the tail is written after every event. */
  private static final JobEvent END = JobEvent.newBuilder().setOffset(-1).build();

  private final GenerationService service;

  private final java.time.Duration keepAlive;

  SseStreams(GenerationService service, java.time.Duration keepAlive) {
    this.service = service;
    this.keepAlive = keepAlive;
  }

  /**
   * @param onEnd runs once when the stream ends for any reason
   */
  Source<ByteString, NotUsed> events(GenerationService.Submitted s, Runnable onEnd) {
    ChunkWriter writer = new ChunkWriter(s);
    return eventLog(s.log())
        .concat(Source.single(END))
        .mapConcat(e -> e == END ? writer.tail() : writer.chunks(e))
        .keepAlive(keepAlive, () -> KEEP_ALIVE)
        .watchTermination(
            (mat, done) -> {
              done.whenComplete(
                  (d, e) -> {
                    onEnd.run();
                    if (!s.log().finished()) {
                      service.cancel(s.jobId());
                    }
                  });
              return mat;
            });
  }

  /** The log's events from offset 0 until its final status, pulled one at a time. */
  static Source<JobEvent, NotUsed> eventLog(JobEventLog log) {
    return Source.unfoldAsync(0L, offset -> next(log, offset));
  }

  private static CompletionStage<Optional<Pair<Long, JobEvent>>> next(
      JobEventLog log, long offset) {
    if (offset < log.size()) {
      return CompletableFuture.completedFuture(
          Optional.of(Pair.create(offset + 1, log.get(offset))));
    }
    if (log.finished()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    CompletableFuture<Optional<Pair<Long, JobEvent>>> f = new CompletableFuture<>();
    Runnable listener =
        new Runnable() {
          @Override
          public void run() {
            if (offset < log.size()) {
              log.removeListener(this);
              f.complete(Optional.of(Pair.create(offset + 1, log.get(offset))));
            } else if (log.finished()) {
              log.removeListener(this);
              f.complete(Optional.empty());
            }
          }
        };
    log.addListener(listener);
    listener.run(); // an append between the checks above and addListener
    return f;
  }

  /** Turns events into SSE chunks; keeps the per-choice state a stream needs. */
  private final class ChunkWriter {
    private final GenerationService.Submitted s;
    private final GenerationRequest r;
    private final String id;
    private final boolean[] roleSent;

    /** Per choice: chars of its text already sent (echo prefix included). */
    private final int[] sentChars;

    /** Per choice: chars of the sample's own text reported by progress events so far. */
    private final int[] progressChars;

    private long completionTokens;
    private ObjectNode failure;

    ChunkWriter(GenerationService.Submitted s) {
      this.s = s;
      this.r = s.request();
      this.id = (r.chat() ? "chatcmpl-" : "cmpl-") + s.responseId();
      this.roleSent = new boolean[r.n() * s.prompts().size()];
      this.sentChars = new int[roleSent.length];
      this.progressChars = new int[roleSent.length];
    }

    List<ByteString> chunks(JobEvent e) {
      List<ByteString> out = new ArrayList<>();
      if (e.hasProgress()) {
        quasiroll.v1.SampleProgress p = e.getProgress();
        int idx =
            GenerationService.promptIndex(s, p.getPromptId()) * r.n()
                + (p.getIndex() - r.indexOffset());
        // A re-run shard repeats deltas: only the one that continues the text is sent.
        if (p.getTextOffset() != progressChars[idx] || p.getText().isEmpty()) {
          return out;
        }
        progressChars[idx] += p.getText().length();
        String prefix =
            sentChars[idx] == 0 && r.echo()
                ? s.promptTexts().get(GenerationService.promptIndex(s, p.getPromptId()))
                : "";
        ObjectNode c = delta(idx, prefix + p.getText());
        c.putNull("logprobs");
        c.putNull("finish_reason");
        out.add(data(chunk(List.of(c))));
      } else if (e.hasSample()) {
        SampleResult x = e.getSample();
        completionTokens += x.getTokenIdsCount();
        int idx = GenerationService.choiceIndex(s, x);
        ObjectNode full = service.choice(s, x, idx);
        String text = r.chat() ? x.getText() : full.get("text").asText();
        // The deltas sent so far are a prefix of the final text (SampleProgress's contract).
        String rest = sentChars[idx] <= text.length() ? text.substring(sentChars[idx]) : "";
        ObjectNode c = delta(idx, rest);
        c.set("logprobs", full.get("logprobs"));
        c.put("finish_reason", full.get("finish_reason").asText());
        for (String extra : List.of("noise_key", "raw_logprobs", "token_ids", "policy_version")) {
          c.set(extra, full.get(extra));
        }
        out.add(data(chunk(List.of(c))));
      } else if (e.hasStatus()
          && JobEventLog.isFinal(e.getStatus().getState())
          && e.getStatus().getState() != JobState.JOB_STATE_SUCCEEDED) {
        failure =
            ApiError.internal(
                    "job "
                        + s.jobId()
                        + " ended "
                        + e.getStatus().getState()
                        + (e.getStatus().getError().isEmpty()
                            ? ""
                            : ": " + e.getStatus().getError()))
                .toJson();
      }
      return out;
    }

    /** A choice's chunk carrying {@code text} (counted as sent). */
    private ObjectNode delta(int idx, String text) {
      ObjectNode c = JsonNodeFactory.instance.objectNode();
      c.put("index", idx);
      if (r.chat()) {
        ObjectNode delta = c.putObject("delta");
        if (!roleSent[idx]) {
          delta.put("role", "assistant");
          roleSent[idx] = true;
        }
        delta.put("content", text);
      } else {
        c.put("text", text);
      }
      sentChars[idx] += text.length();
      return c;
    }

    List<ByteString> tail() {
      List<ByteString> out = new ArrayList<>();
      if (failure != null) {
        out.add(data(failure));
      } else if (r.includeUsage()) {
        ObjectNode u = chunk(List.of());
        u.set("usage", OpenAiFormat.usage(s.promptTokens(), completionTokens));
        out.add(data(u));
      }
      out.add(DONE);
      return out;
    }

    private ObjectNode chunk(List<ObjectNode> choices) {
      ObjectNode o = JsonNodeFactory.instance.objectNode();
      o.put("id", id);
      o.put("object", r.chat() ? "chat.completion.chunk" : "text_completion");
      o.put("created", s.createdSeconds());
      o.put("model", r.model());
      o.putArray("choices").addAll(choices);
      return o;
    }
  }

  private static ByteString data(JsonNode o) {
    try {
      return ByteString.fromString("data: " + JSON.writeValueAsString(o) + "\n\n");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
