package quasiroll.coordinator.http;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.KeyedHash;
import quasiroll.coordinator.job.ValidatedJob;
import quasiroll.v1.JobSpec;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * Coalesces concurrent small HTTP requests into shared jobs: a job costs the coordinator a fixed
 * amount of work (admission, events, the durable store, dispatch messages) whatever its size, so a
 * burst of n = 1 requests is cheaper as one job of many prompts than as many jobs.
 *
 * <p>Requests whose jobs would be identical but for their prompts and seed (same model, k, index
 * offset, sampler, decode settings; the {@link #lane} key) share a lane. A lane runs at most {@link
 * #MAX_RUNNING} coalesced jobs at once; a request arriving while that many run waits and leaves
 * with the next job, together with every request that arrived meanwhile (or at once when {@code
 * maxPrompts} prompts are waiting). So an idle server adds no delay, and a busy one batches.
 *
 * <p><b>Every request keeps exactly its own samples.</b> Prompt i of request j gets the id {@code
 * "c<j>.<i>"} in the shared job, and its noise seed is set explicitly ({@code Prompt.noise_seed})
 * to H(request seed, the prompt's own id): the seed that prompt has in a job of its own. Since a
 * sample is a pure function of (prompt seed, index, k, sampler, decode settings, prompt tokens),
 * the request's samples are the same bytes; {@link #ownSample} gives them back their own prompt id
 * and job seed.
 *
 * <p>A shared job that the job manager refuses (it checks token ids against the live workers'
 * vocabulary, which one bad request can fail) is retried request by request, so one bad request
 * never fails the others. Streamed requests are never coalesced (they cancel their job on hang-up).
 */
final class RequestCoalescer {
  /** Coalesced jobs a lane runs at once before new requests wait for the next one. */
  static final int MAX_RUNNING = 2;

  private final GenerationService service;
  private final int maxPrompts;
  private final Map<JobSpec, Lane> lanes = new HashMap<>();

  RequestCoalescer(GenerationService service, int maxPrompts) {
    this.service = service;
    this.maxPrompts = maxPrompts;
  }

  private record Item(
      GenerationRequest request,
      GenerationService.Built built,
      CompletableFuture<GenerationService.Submitted> result) {}

  private static final class Lane {
    int running;
    List<Item> pending = new ArrayList<>();
    int pendingPrompts;
  }

  /** The job a request would be but for its prompts, seed and name. */
  static JobSpec lane(JobSpec spec) {
    return spec.toBuilder().clearPrompts().clearSeed().clearName().build();
  }

  CompletionStage<GenerationService.Submitted> add(GenerationRequest r, GenerationService.Built b) {
    Item item = new Item(r, b, new CompletableFuture<>());
    JobSpec key = lane(b.job().spec());
    List<Item> go = null;
    synchronized (lanes) {
      Lane lane = lanes.computeIfAbsent(key, k -> new Lane());
      lane.pending.add(item);
      lane.pendingPrompts += b.job().prompts().size();
      if (lane.running < MAX_RUNNING || lane.pendingPrompts >= maxPrompts) {
        go = take(lane);
      }
    }
    if (go != null) {
      launch(key, go);
    }
    return item.result;
  }

  private static List<Item> take(Lane lane) {
    List<Item> go = lane.pending;
    lane.pending = new ArrayList<>();
    lane.pendingPrompts = 0;
    lane.running++;
    return go;
  }

  private void finished(JobSpec key) {
    List<Item> go = null;
    synchronized (lanes) {
      Lane lane = lanes.get(key);
      lane.running--;
      if (!lane.pending.isEmpty()) {
        go = take(lane);
      } else if (lane.running == 0) {
        lanes.remove(key);
      }
    }
    if (go != null) {
      launch(key, go);
    }
  }

  private void launch(JobSpec key, List<Item> items) {
    ValidatedJob job;
    List<List<String>> ids = new ArrayList<>();
    try {
      job = combine(key, items, ids);
    } catch (BadInputException | ApiError e) {
      // Each request passed on its own; a combination the validator refuses (a limit on the
      // whole job) runs request by request instead.
      if (items.size() == 1) {
        items.get(0).result.completeExceptionally(e);
        finished(key);
        return;
      }
      singly(key, items);
      return;
    }
    service
        .submitJob(job)
        .whenComplete(
            (jobId, e) -> {
              if (e != null) {
                if (items.size() > 1 && refused(e)) {
                  singly(key, items);
                  return;
                }
                items.forEach(i -> i.result.completeExceptionally(e));
                finished(key);
                return;
              }
              var log = service.logs().get(jobId).orElseThrow();
              long now = System.currentTimeMillis() / 1000;
              for (int j = 0; j < items.size(); j++) {
                Item i = items.get(j);
                i.result.complete(
                    new GenerationService.Submitted(
                        jobId,
                        items.size() == 1 ? jobId : jobId + "-" + j,
                        log,
                        i.request,
                        i.built.job().prompts(),
                        i.built.promptTexts(),
                        i.built.promptTokens(),
                        i.built.model(),
                        now,
                        ids.get(j)));
              }
              // The log's listener runs on the job manager's thread: the next job is combined
              // and validated on the validation executor instead.
              GenerationService.whenFinished(log)
                  .whenCompleteAsync((l, x) -> finished(key), service.validationExecutor());
            });
  }

  private static boolean refused(Throwable e) {
    while (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e instanceof ApiError a && a.status == 400;
  }

  /** Runs each request as a (one-request) coalesced job of its own; the lane slot is reused. */
  private void singly(JobSpec key, List<Item> items) {
    synchronized (lanes) {
      lanes.get(key).running += items.size() - 1;
    }
    for (Item i : items) {
      launch(key, List.of(i));
    }
  }

  private ValidatedJob combine(JobSpec key, List<Item> items, List<List<String>> ids) {
    JobSpec.Builder spec =
        key.toBuilder()
            .setSeed(items.get(0).request.seed())
            .setName(items.size() == 1 ? items.get(0).built.job().spec().getName() : "http");
    for (int j = 0; j < items.size(); j++) {
      Item item = items.get(j);
      List<String> mine = new ArrayList<>();
      List<Prompt> prompts = item.built.job().prompts();
      for (int i = 0; i < prompts.size(); i++) {
        Prompt p = prompts.get(i);
        String id = "c" + j + "." + i;
        mine.add(id);
        spec.addPrompts(
            p.toBuilder()
                .setId(id)
                .setNoiseSeed(
                    p.hasNoiseSeed()
                        ? p.getNoiseSeed()
                        : KeyedHash.promptSeed(item.request.seed(), p.getId())));
      }
      ids.add(mine);
    }
    return service.validator().validate(spec.build());
  }

  /**
   * A sample of the job as the request sees it: null when it belongs to another request of a
   * coalesced job; else with the request's own prompt id and job seed (its prompt seed is already
   * the request's own).
   */
  static SampleResult ownSample(GenerationService.Submitted s, SampleResult x) {
    if (s.jobPromptIds() == null) {
      return x;
    }
    int i = s.jobPromptIds().indexOf(x.getPromptId());
    if (i < 0) {
      return null;
    }
    String own = s.prompts().get(i).getId();
    NoiseKey key =
        x.getNoiseKey().toBuilder().setPromptId(own).setJobSeed(s.request().seed()).build();
    return x.toBuilder().setPromptId(own).setNoiseKey(key).build();
  }
}
