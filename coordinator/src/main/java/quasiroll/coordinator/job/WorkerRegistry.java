package quasiroll.coordinator.job;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.UniqueAddress;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.WorkerInfo;

/**
 * The registered workers, in registration order (dispatch goes round robin in this order), and the
 * vocabulary each model's workers report.
 *
 * <p>Identity: a worker on a cluster node is tied to that node's {@link UniqueAddress} (host, port
 * and the uid of that incarnation) and leaves only when exactly that node is downed or removed
 * ({@link #nodeGone}). A node that rejoins after being downed comes back at the same host and port
 * with a new uid, so the removal of its earlier incarnation never touches the new one, whatever the
 * order in which the two are seen. (DeathWatch is not used for such workers: Pekko's cluster remote
 * watcher ends at once a watch on an actor whose address is not an Up member but has the tombstone
 * of a removed member, so the watch of a rejoined worker still Joining ended as soon as it was set,
 * and its Terminated, like the AddressTerminated of a removal, names no incarnation.)
 */
final class WorkerRegistry {
  /** How many gone nodes are remembered, to refuse a late registration from one of them. */
  static final int GONE_REMEMBERED = 1024;

  private final Map<String, WorkerState> workers = new LinkedHashMap<>();

  /** Smallest vocabulary reported per model (workers of one model should agree). */
  private final Map<String, Integer> vocabByModel = new HashMap<>();

  /** Nodes downed or removed, most recent last (bounded). */
  private final Map<UniqueAddress, Boolean> goneNodes =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<UniqueAddress, Boolean> eldest) {
          return size() > GONE_REMEMBERED;
        }
      };

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
   * Records a (re)registration and returns the worker, or null when {@code node} was already downed
   * or removed (a registration from a gone incarnation, delivered late: refused). A known worker
   * gets its new info, agent and node and starts over with no credits. {@code node} is null for a
   * worker outside a cluster (the caller watches its agent instead).
   */
  WorkerState register(WorkerInfo info, ActorRef<ToWorker> agent, UniqueAddress node) {
    if (node != null && goneNodes.containsKey(node)) {
      return null;
    }
    WorkerState w = workers.get(info.workerId());
    if (w == null) {
      w = new WorkerState();
      workers.put(info.workerId(), w);
    }
    w.info = info;
    w.agent = agent;
    w.node = node;
    w.credits = 0;
    return w;
  }

  /**
   * {@code node} was downed or removed: removes and returns the workers on exactly that node
   * (address and uid; a later incarnation at the same address stays) and remembers the node.
   */
  List<WorkerState> nodeGone(UniqueAddress node) {
    goneNodes.put(node, Boolean.TRUE);
    List<WorkerState> gone = new ArrayList<>();
    for (Iterator<WorkerState> it = workers.values().iterator(); it.hasNext(); ) {
      WorkerState w = it.next();
      if (node.equals(w.node)) {
        it.remove();
        gone.add(w);
      }
    }
    return gone;
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
