package quasiroll.coordinator.job;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToCoordinator.RegisterWorker;

/**
 * The registered workers, in registration order (dispatch goes round robin in this order), and the
 * vocabulary each model's workers report.
 */
final class WorkerRegistry {
  private final Map<String, WorkerState> workers = new LinkedHashMap<>();

  /** Smallest vocabulary reported per model (workers of one model should agree). */
  private final Map<String, Integer> vocabByModel = new HashMap<>();

  WorkerState get(String workerId) {
    return workers.get(workerId);
  }

  WorkerState remove(String workerId) {
    return workers.remove(workerId);
  }

  Collection<WorkerState> all() {
    return workers.values();
  }

  int size() {
    return workers.size();
  }

  /**
   * Records a (re)registration: a new worker is watched (its node leaving ends it with a {@link
   * JobManager.WorkerTerminated}); a known one gets its new info and agent and starts over with no
   * credits.
   */
  WorkerState register(RegisterWorker m, ActorContext<ToCoordinator> ctx) {
    String id = m.info().workerId();
    WorkerState w = workers.get(id);
    if (w == null) {
      w = new WorkerState();
      workers.put(id, w);
      ctx.watchWith(m.agent(), new JobManager.WorkerTerminated(id));
      ctx.getLog()
          .info(
              "worker {} joined: model '{}' on {}, capacity {}",
              id,
              m.info().model(),
              m.info().device(),
              m.info().capacity());
    }
    w.info = m.info();
    w.agent = m.agent();
    w.credits = 0;
    return w;
  }

  void reportVocabulary(String model, int vocab) {
    vocabByModel.merge(model, vocab, Math::min);
  }

  /** The vocabulary of {@code model}'s workers, or null when none has reported one. */
  Integer vocabulary(String model) {
    return vocabByModel.get(model);
  }

  /** The models live workers hold: model id -> number of such workers. */
  Map<String, Integer> liveModels() {
    Map<String, Integer> models = new java.util.TreeMap<>();
    for (WorkerState w : workers.values()) {
      models.merge(w.info.model(), 1, Integer::sum);
    }
    return models;
  }
}
