package quasiroll.coordinator.job;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.store.JobStore;

/**
 * The job store's writer thread: takes cuts of staged writes in the order they were cut, writes all
 * that are waiting in one transaction (group commit: one fsync for every shard that finished
 * meanwhile), and only after the commit publishes their events to client streams and runs what
 * waited for them (acks, replies), in order.
 *
 * <p>If the store fails, nothing more is written, published or run (no ack for what may be lost)
 * and {@code onFailure} is told once.
 */
final class StoreWriter {
  private record Item(JobEventLogs.Cut cut, Runnable afterCommit) {}

  private static final Item STOP = new Item(null, null);
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StoreWriter.class);

  private final JobStore store;
  private final Consumer<JobStore.StoreException> onFailure;
  private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
  private final Thread thread;

  StoreWriter(JobStore store, Consumer<JobStore.StoreException> onFailure) {
    this.store = store;
    this.onFailure = onFailure;
    this.thread = new Thread(this::run, "job-store-writer");
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues a cut; {@code afterCommit} (may be null) runs on the writer once it is committed. */
  void submit(JobEventLogs.Cut cut, Runnable afterCommit) {
    queue.add(new Item(cut, afterCommit));
  }

  /** Writes what is queued, then stops the thread (waits up to 10 s for it). */
  void close() {
    queue.add(STOP);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    List<Item> items = new ArrayList<>();
    List<JobStore.Batch> batches = new ArrayList<>();
    while (true) {
      items.clear();
      batches.clear();
      try {
        items.add(queue.take());
      } catch (InterruptedException e) {
        return;
      }
      queue.drainTo(items);
      boolean stop = false;
      for (Item i : items) {
        if (i == STOP) {
          stop = true;
        } else {
          batches.add(i.cut().batch());
        }
      }
      try {
        store.write(batches);
      } catch (JobStore.StoreException e) {
        onFailure.accept(e);
        return;
      } catch (RuntimeException e) {
        onFailure.accept(new JobStore.StoreException("job store write failed: " + e, e));
        return;
      }
      for (Item i : items) {
        if (i != STOP) {
          try {
            i.cut().publish();
            if (i.afterCommit() != null) {
              i.afterCommit().run();
            }
          } catch (RuntimeException e) {
            // a listener or an ack that threw must not stop the commits of everyone else
            log.warn("after a job store commit: {}", e.toString());
          }
        }
      }
      if (stop) {
        return;
      }
    }
  }
}
