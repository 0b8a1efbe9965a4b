package quasiroll.cluster.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * The Kryo id table is the wire contract's registry: (a) it holds exactly the records the sealed
 * {@link ToWorker} / {@link ToCoordinator} permit plus the value types they carry, and (b) no
 * existing id ever changes (compared with a checked-in golden list).
 */
class KryoIdsTest {

  /** Every id→class in the table, including the actor-reference class registered by name. */
  static Map<Integer, String> currentIds() {
    Map<Integer, String> ids = new TreeMap<>();
    KryoClusterSerializer.IDS.forEach((id, c) -> ids.put(id, c.getName()));
    ids.put(
        KryoClusterSerializer.TYPED_ACTOR_REF_ID,
        "org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter");
    return ids;
  }

  static Map<Integer, String> golden() throws IOException {
    Map<Integer, String> ids = new TreeMap<>();
    try (InputStream in = KryoIdsTest.class.getResourceAsStream("kryo-ids.golden")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        line = line.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        String[] f = line.split(" ");
        ids.put(Integer.parseInt(f[0]), f[1]);
      }
    }
    return ids;
  }

  /**
   * Which golden entries the current table breaks: an id that disappeared or now names another
   * class, or a class that moved to another id. New ids (appended) are not violations.
   */
  static List<String> idChanges(Map<Integer, String> golden, Map<Integer, String> current) {
    List<String> changes = new ArrayList<>();
    golden.forEach(
        (id, name) -> {
          String now = current.get(id);
          if (!name.equals(now)) {
            changes.add("id " + id + " was " + name + ", is now " + now);
          }
        });
    return changes;
  }

  @Test
  void existingIdsNeverChange() throws IOException {
    Map<Integer, String> golden = golden();
    assertEquals(
        List.of(),
        idChanges(golden, currentIds()),
        "Kryo ids are part of the wire format: give a new class a new id instead");
    Set<String> goldenNames = new HashSet<>(golden.values());
    for (var e : currentIds().entrySet()) {
      assertTrue(
          goldenNames.contains(e.getValue()),
          "new wire class "
              + e.getValue()
              + " (id "
              + e.getKey()
              + "): append it to kryo-ids.golden");
    }
  }

  @Test
  void aChangedIdIsReported() throws IOException {
    Map<Integer, String> renumbered = new TreeMap<>(currentIds());
    String welcome = renumbered.remove(101);
    renumbered.put(199, welcome);
    assertEquals(
        List.of("id 101 was " + welcome + ", is now null"), idChanges(golden(), renumbered));
    Map<Integer, String> swapped = new TreeMap<>(currentIds());
    swapped.put(102, swapped.put(103, swapped.get(102)));
    assertEquals(2, idChanges(golden(), swapped).size());
    Map<Integer, String> appended = new TreeMap<>(currentIds());
    appended.put(199, "quasiroll.cluster.wire.ToWorker$Something");
    assertEquals(List.of(), idChanges(golden(), appended));
  }

  /** The records of a sealed wire interface, leaving out its {@code Local} extension point. */
  static Set<Class<?>> messages(Class<?> sealed) {
    Set<Class<?>> out = new LinkedHashSet<>();
    for (Class<?> c : sealed.getPermittedSubclasses()) {
      if (!c.isInterface()) {
        out.add(c);
      }
    }
    return out;
  }

  /** The messages plus every type their fields carry, transitively (what Kryo must know). */
  static Set<Class<?>> reachable(Set<Class<?>> roots) {
    Set<Class<?>> seen = new LinkedHashSet<>();
    List<Class<?>> todo = new ArrayList<>(roots);
    while (!todo.isEmpty()) {
      Class<?> c = todo.removeLast();
      if (c.isPrimitive()
          || c == String.class
          || ActorRef.class.isAssignableFrom(c)
          || !seen.add(c)) {
        continue;
      }
      if (c.isRecord()) {
        for (RecordComponent rc : c.getRecordComponents()) {
          todo.add(rc.getType());
        }
      }
    }
    return seen;
  }

  @Test
  void registeredClassesAreExactlyTheContract() {
    Set<Class<?>> contract = new LinkedHashSet<>(messages(ToWorker.class));
    contract.addAll(messages(ToCoordinator.class));
    assertEquals(
        8,
        contract.size(),
        "ToWorker: AssignShard, CancelJobWork, Welcome, LoadPolicy, AbortOlderVersions;"
            + " ToCoordinator: RegisterWorker, RequestWork, PolicyLoaded");
    assertEquals(reachable(contract), new HashSet<>(KryoClusterSerializer.IDS.values()));
  }

  @Test
  void theLocalExtensionPointsAreTheOnlyNonRecords() {
    for (Class<?> sealed : List.of(ToWorker.class, ToCoordinator.class)) {
      for (Class<?> c : sealed.getPermittedSubclasses()) {
        assertTrue(c.isRecord() || c.getSimpleName().equals("Local"), c + " in " + sealed);
      }
    }
  }
}
