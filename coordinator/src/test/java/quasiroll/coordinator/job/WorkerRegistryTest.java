package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.UniqueAddress;
import org.junit.jupiter.api.Test;
import quasiroll.cluster.wire.WorkerInfo;

/**
 * Worker identity is the cluster node's address and incarnation uid: a worker that rejoins at the
 * same host and port is not dropped by the removal of its earlier incarnation, in either order.
 */
class WorkerRegistryTest {
  private static final Address HOST = new Address("pekko", "quasiroll", "127.0.0.1", 24385);
  private static final UniqueAddress OLD = new UniqueAddress(HOST, 2873593635835900256L);
  private static final UniqueAddress NEW = new UniqueAddress(HOST, -4517852458657764587L);

  private static WorkerInfo info(String id) {
    return new WorkerInfo(id, "m", "cpu", 8, 32);
  }

  @Test
  void theEarlierIncarnationsRemovalAfterTheNewOneRegisteredLeavesTheNewOne() {
    WorkerRegistry r = new WorkerRegistry();
    WorkerState old = r.register(info("w"), null, OLD);
    WorkerState fresh = r.register(info("w-r1"), null, NEW);
    List<WorkerState> gone = r.nodeGone(OLD);
    assertEquals(List.of(old), gone);
    assertSame(fresh, r.get("w-r1"));
    assertNull(r.get("w"));
    assertEquals(1, r.size());
    // The old node seen again (downed, then removed): nothing more leaves.
    assertTrue(r.nodeGone(OLD).isEmpty());
    assertSame(fresh, r.get("w-r1"));
    // The new incarnation's own removal does drop it.
    assertEquals(List.of(fresh), r.nodeGone(NEW));
    assertEquals(0, r.size());
  }

  @Test
  void theEarlierIncarnationsRemovalBeforeTheNewOneRegisteredLeavesTheNewOne() {
    WorkerRegistry r = new WorkerRegistry();
    WorkerState old = r.register(info("w"), null, OLD);
    assertEquals(List.of(old), r.nodeGone(OLD));
    WorkerState fresh = r.register(info("w-r1"), null, NEW);
    assertNotNull(fresh);
    assertSame(fresh, r.get("w-r1"));
  }

  @Test
  void aLateRegistrationFromAGoneNodeIsRefused() {
    WorkerRegistry r = new WorkerRegistry();
    r.register(info("w-r1"), null, NEW);
    r.nodeGone(OLD);
    assertNull(r.register(info("w"), null, OLD));
    assertNull(r.get("w"));
    assertEquals(1, r.size());
  }

  @Test
  void aWorkerReRegisteringKeepsItsPlaceAndStartsWithNoCredits() {
    WorkerRegistry r = new WorkerRegistry();
    WorkerState a = r.register(info("a"), null, OLD);
    r.register(info("b"), null, NEW);
    a.credits = 3;
    assertSame(a, r.register(info("a"), null, OLD));
    assertEquals(0, a.credits);
    assertEquals(List.of("a", "b"), r.all().stream().map(w -> w.info.workerId()).toList());
  }

  @Test
  void onlyABoundedNumberOfGoneNodesIsRemembered() {
    WorkerRegistry r = new WorkerRegistry();
    r.nodeGone(OLD);
    for (int i = 0; i < WorkerRegistry.GONE_REMEMBERED; i++) {
      r.nodeGone(new UniqueAddress(HOST, i));
    }
    assertNotNull(r.register(info("w"), null, OLD));
  }
}
