package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ShardSchedulerTest {
  @Test
  void cutsPromptsIntoStridedShardsSizedToCapacity() {
    ShardScheduler s = new ShardScheduler();
    s.addJob("a", "m", 1, 10);
    assertArrayEquals(new int[] {0, 3, 6, 9}, s.next("m", 4).indices());
    assertArrayEquals(new int[] {1, 4, 7}, s.next("m", 4).indices());
    assertArrayEquals(new int[] {2, 5, 8}, s.next("m", 4).indices());
    assertNull(s.next("m", 4));
  }

  @Test
  void stridedPartsCoverEveryIndexExactlyOnce() {
    for (int n = 1; n <= 40; n++) {
      for (int cap = 1; cap <= 12; cap++) {
        int[] all = new int[n];
        Arrays.setAll(all, i -> 100 + i);
        TreeSet<Integer> seen = new TreeSet<>();
        for (int[] part : ShardScheduler.strided(all, cap)) {
          assertEquals(true, part.length <= cap, "part larger than capacity");
          for (int i : part) {
            assertEquals(true, seen.add(i), "index twice");
          }
        }
        assertEquals(n, seen.size());
      }
    }
  }

  @Test
  void jobsTakeTurnsOneShardEach() {
    ShardScheduler s = new ShardScheduler();
    s.addJob("big", "m", 100, 8);
    s.addJob("small", "m", 2, 8);
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      order.add(s.next("m", 8).jobId());
    }
    assertEquals(List.of("big", "small", "big", "small", "big", "big"), order);
  }

  @Test
  void aHeldJobGetsNoShardsAndItsTurnPassesUntilReleased() {
    ShardScheduler s = new ShardScheduler();
    s.addJob("slow", "m", 4, 8);
    s.addJob("fast", "m", 4, 8);
    java.util.Set<String> held = new java.util.HashSet<>(List.of("slow"));
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      order.add(s.next("m", 8, id -> !held.contains(id)).jobId());
    }
    assertEquals(List.of("fast", "fast", "fast", "fast"), order);
    assertNull(s.next("m", 8, id -> !held.contains(id)), "only the held job has work left");
    held.clear();
    assertEquals("slow", s.next("m", 8, id -> !held.contains(id)).jobId());
    assertEquals(0, s.next("m", 8).indices()[0], "the held job's work was kept, not lost");
  }

  @Test
  void onlyWorkersHoldingTheModelGetItsShards() {
    ShardScheduler s = new ShardScheduler();
    s.addJob("a", "m1", 1, 4);
    assertNull(s.next("m2", 4));
    assertEquals("a", s.next("m1", 4).jobId());
  }

  @Test
  void requeuedIndicesGoFirstAndAreSplitToTheAskersCapacity() {
    ShardScheduler s = new ShardScheduler();
    s.addJob("a", "m", 3, 8);
    ShardScheduler.Shard first = s.next("m", 8);
    s.requeue("a", first.promptIndex(), new int[] {1, 3, 5, 7});
    ShardScheduler.Shard again = s.next("m", 2);
    assertEquals(first.promptIndex(), again.promptIndex());
    assertArrayEquals(new int[] {1, 5}, again.indices());
    assertArrayEquals(new int[] {3, 7}, s.next("m", 2).indices());
  }

  @Test
  void removedJobsYieldNothing() {
    ShardScheduler s = new ShardScheduler();
    s.addJob("a", "m", 3, 8);
    s.addJob("b", "m", 1, 8);
    s.removeJob("a");
    assertEquals("b", s.next("m", 8).jobId());
    assertNull(s.next("m", 8));
    assertEquals(0, s.queueDepth());
  }
}
