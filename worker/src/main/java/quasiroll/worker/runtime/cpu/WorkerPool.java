package quasiroll.worker.runtime.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that run the tasks 0..n-1 of one parallel loop at a time; the calling
 * thread works too. Tasks are handed out dynamically, but every task is a fixed unit of work (a
 * block of output rows, one attention head of one sequence) computed entirely by one thread, so
 * results do not depend on the thread count or on scheduling. Idle workers spin for {@link
 * #SPIN_NANOS} after their last loop before parking: a decode step issues hundreds of short loops,
 * and waking a parked thread costs more than a short loop (on a loaded machine, much more).
 */
final class WorkerPool implements AutoCloseable {
  /** Body of a parallel loop: runs task {@code task} on worker {@code worker}. */
  interface Body {
    void run(int task, WorkerScratch scratch);
  }

  /** Default for {@code minParallelWork}: about 0.1 ms of one core's multiply-adds. */
  static final long MIN_PARALLEL_WORK = 100_000;

  private static final long SPIN_NANOS = 2_000_000L;
  private static final int CALLER_SPINS = 20_000;

  private final Thread[] helpers;
  private final WorkerScratch[] scratch;
  private final Object submitLock = new Object();
  private volatile Job job;
  private volatile boolean closed;

  private static final class Job {
    final Body body;
    final int tasks;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Job(Body body, int tasks) {
      this.body = body;
      this.tasks = tasks;
    }
  }

  private final long minParallelWork;

  WorkerPool(int threads) {
    this(threads, MIN_PARALLEL_WORK);
  }

  /**
   * @param minParallelWork loops with less work run on the caller alone (0: never)
   */
  WorkerPool(int threads, long minParallelWork) {
    this.minParallelWork = minParallelWork;
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    scratch = new WorkerScratch[threads];
    for (int i = 0; i < threads; i++) {
      scratch[i] = new WorkerScratch();
    }
    helpers = new Thread[threads - 1];
    for (int i = 0; i < helpers.length; i++) {
      int id = i + 1;
      helpers[i] = new Thread(() -> helperLoop(id), "quasiroll-cpu-" + id);
      helpers[i].setDaemon(true);
      helpers[i].start();
    }
  }

  int threads() {
    return scratch.length;
  }

  /**
   * Runs body for tasks 0..tasks-1 and returns when all are done; rethrows a task's failure. Loops
   * of under {@code minParallelWork} multiply-adds in all ({@code work}) run on the calling thread
   * alone: waking helpers would cost more. Results are the same either way.
   */
  void run(int tasks, long work, Body body) {
    if (tasks <= 0) {
      return;
    }
    synchronized (submitLock) {
      if (helpers.length == 0 || tasks == 1 || work < minParallelWork) {
        for (int t = 0; t < tasks; t++) {
          body.run(t, scratch[0]);
        }
        return;
      }
      Job j = new Job(body, tasks);
      job = j;
      for (Thread h : helpers) {
        LockSupport.unpark(h);
      }
      work(j, scratch[0]);
      int spins = 0;
      while (j.done.get() < tasks) {
        if (++spins > CALLER_SPINS) {
          Thread.yield();
        } else {
          Thread.onSpinWait();
        }
      }
      job = null;
      Throwable f = j.failure.get();
      if (f instanceof RuntimeException e) {
        throw e;
      } else if (f instanceof Error e) {
        throw e;
      } else if (f != null) {
        throw new IllegalStateException(f);
      }
    }
  }

  private static void work(Job j, WorkerScratch s) {
    int t;
    while ((t = j.next.getAndIncrement()) < j.tasks) {
      try {
        if (j.failure.get() == null) {
          j.body.run(t, s);
        }
      } catch (Throwable e) {
        j.failure.compareAndSet(null, e);
      } finally {
        j.done.incrementAndGet();
      }
    }
  }

  private void helperLoop(int id) {
    Job last = null;
    long idleSince = System.nanoTime();
    int spins = 0;
    while (!closed) {
      Job j = job;
      if (j != null && j != last) {
        last = j;
        work(j, scratch[id]);
        idleSince = System.nanoTime();
        spins = 0;
      } else if ((++spins & 1023) != 0 || System.nanoTime() - idleSince < SPIN_NANOS) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(this, 10_000_000L);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread h : helpers) {
      LockSupport.unpark(h);
    }
  }
}
