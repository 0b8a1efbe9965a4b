package quasiroll.worker.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.common.sampler.NoiseFactory;
import quasiroll.common.sampler.TokenChoice;
import quasiroll.v1.FinishReason;
import quasiroll.v1.SampleResult;
import quasiroll.worker.runtime.BatchedDecoding;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelInfo;
import quasiroll.worker.tokenizer.Tokenizer;

/**
 * Continuous batching: ONE decode loop (one thread) per model that decodes the samples of many
 * shards (different prompts, different jobs) in each forward pass, admits waiting shards as soon as
 * finished samples free rows, and computes each admitted shard's prompt once (inside the same
 * forward pass as the running rows when the backend is {@link BatchedDecoding}); the shard's
 * samples then continue from that one prefix (each sequence appends to its own cache tail: the
 * prefix is forked, not copied). Shards of the same prompt held at once (a prompt's k cut into
 * several shards) share one prompt cache ({@link BatchedDecoding#openSharing}).
 *
 * <p>Prompt caches outlive their shards: a shard whose samples all finished leaves its prompt's
 * cache (and prompt logits) in a least-recently-used set of at most {@code promptCacheBytes}, and a
 * later shard of the same prompt tokens (another job on the same prompts: a sweep's samplers and k)
 * continues from it instead of computing the prompt again. The cache holds the same numbers a new
 * prefill would compute (a row's arithmetic does not depend on the pass it was computed in), so
 * samples are the same bytes with or without it. Cached prompts count against the memory budget and
 * are dropped, oldest first, when an admission needs the room.
 *
 * <p>A sample's bytes do not depend on what it was batched with: its tokens come from {@link
 * CoupledTokenSampler} with its own noise and its own logits row, and a backend's row arithmetic
 * does not depend on the other rows of a pass (the {@link DecodeSession#step} and {@link
 * BatchedDecoding#step} contract). The steps of a sample are the same as in {@link ShardDecoder}
 * (first token from the prompt logits, then one token per pass; the same stopping rules, via {@link
 * SampleState}), so both loops give identical results.
 *
 * <p>{@link #run} is the blocking {@link ShardRunner} form: the calling thread hands the shard to
 * the loop and waits, so any caller that runs several shards at once (the worker agent's slots, the
 * sweep's in-process runner) gets them batched together. {@code out} and {@code cancelled} are
 * called on the loop thread; an exception thrown by {@code out} fails that shard only. Admission: a
 * shard is admitted when its samples fit in {@code maxRows} (a shard larger than that runs when the
 * batch is empty) and the prompts admitted in one pass total at most {@code maxPrefillTokens} (at
 * least one prompt per pass); longer prompts are prefilled on their own, in chunks, by {@link
 * ModelBackend#open}. The sessions held at once stay within the backend's {@link
 * ModelBackend#memoryBudgetBytes} (their {@link ModelBackend#sessionBytes} summed); a shard that
 * alone exceeds it fails with the backend's message.
 */
public final class ContinuousDecoder implements AbortableShardRunner, AutoCloseable {
  /** Default rows (samples) decoded per pass. */
  public static final int DEFAULT_MAX_ROWS = 256;

  /** Default prompt tokens computed in one pass beside the running rows. */
  public static final int DEFAULT_MAX_PREFILL_TOKENS = 512;

  /**
   * Default bytes of finished shards' prompt caches (KV cache and prompt logits) kept for later
   * shards of the same prompt: 64 MiB, a few hundred prompts of a small model.
   */
  public static final long DEFAULT_PROMPT_CACHE_BYTES = 64L << 20;

  private final ModelBackend backend;
  private final BatchedDecoding batched;
  private final Tokenizer tokenizer;
  private final NoiseFactory noises;
  private final int maxRows;
  private final int maxPrefillTokens;
  private final long promptCacheBytes;
  private final int vocab;
  private final CoupledTokenSampler sampler = new CoupledTokenSampler();
  private final ShardDecoder fallback;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final ArrayDeque<Group> pending = new ArrayDeque<>();
  private final Thread loop;
  private boolean closed;

  /** Rows the loop holds (admitted, unfinished samples); read by {@link #load()}. */
  private volatile int rowsInUse;

  /**
   * Finished shards' prompt sessions by prompt, least recently used first; loop thread only. Each
   * is an owner session (not one sharing another's prompt) whose sequences were all released.
   */
  private final LinkedHashMap<PromptKey, CachedPrompt> promptCache =
      new LinkedHashMap<>(64, 0.75f, true);

  private long promptCacheUsed;

  /** Decode rows not computed: samples that took their class's row (see {@link #advance}). */
  private final AtomicLong sharedRows = new AtomicLong();

  /** Shards that continued from a cached prompt instead of computing it. */
  private final AtomicLong promptCacheHits = new AtomicLong();

  private record CachedPrompt(DecodeSession session, long bytes) {}

  /**
   * @param maxRows samples decoded per forward pass at most (the batch)
   * @param maxPrefillTokens prompt tokens computed per pass at most beside the decode rows
   */
  public ContinuousDecoder(
      ModelBackend backend,
      Tokenizer tokenizer,
      NoiseFactory noises,
      int maxRows,
      int maxPrefillTokens) {
    this(backend, tokenizer, noises, maxRows, maxPrefillTokens, DEFAULT_PROMPT_CACHE_BYTES);
  }

  /**
   * @param maxRows samples decoded per forward pass at most (the batch)
   * @param maxPrefillTokens prompt tokens computed per pass at most beside the decode rows
   * @param promptCacheBytes finished shards' prompt caches kept for later shards of the same
   *     prompt, in bytes (0: none)
   */
  public ContinuousDecoder(
      ModelBackend backend,
      Tokenizer tokenizer,
      NoiseFactory noises,
      int maxRows,
      int maxPrefillTokens,
      long promptCacheBytes) {
    if (maxRows < 1) {
      throw new BadInputException("batch rows " + maxRows + " is invalid: expected >= 1");
    }
    if (maxPrefillTokens < 1) {
      throw new BadInputException(
          "prefill tokens per pass " + maxPrefillTokens + " is invalid: expected >= 1");
    }
    if (promptCacheBytes < 0) {
      throw new BadInputException(
          "prompt cache bytes " + promptCacheBytes + " is invalid: expected >= 0");
    }
    this.promptCacheBytes = promptCacheBytes;
    this.backend = backend;
    this.batched = backend instanceof BatchedDecoding b ? b : null;
    this.tokenizer = tokenizer;
    this.noises = noises;
    this.maxRows = maxRows;
    this.maxPrefillTokens = maxPrefillTokens;
    this.vocab = backend.info().vocabSize();
    this.fallback = new ShardDecoder(backend, tokenizer, noises, 1);
    this.loop = new Thread(this::loop, "decode-loop-" + backend.info().id());
    loop.setDaemon(true);
    loop.start();
  }

  public ContinuousDecoder(ModelBackend backend, Tokenizer tokenizer, NoiseFactory noises) {
    this(backend, tokenizer, noises, DEFAULT_MAX_ROWS, DEFAULT_MAX_PREFILL_TOKENS);
  }

  /** Decode rows so far that samples took from another sample with the same tokens. */
  public long sharedRows() {
    return sharedRows.get();
  }

  /** Shards so far that continued from a finished shard's cached prompt. */
  public long promptCacheHits() {
    return promptCacheHits.get();
  }

  /** The most samples one forward pass decodes. */
  public int maxRows() {
    return maxRows;
  }

  @Override
  public int batchRows() {
    return maxRows;
  }

  /** Samples admitted and not finished, plus samples of shards waiting for admission. */
  public int load() {
    lock.lock();
    try {
      int waiting = 0;
      for (Group g : pending) {
        waiting += g.samples.length;
      }
      return rowsInUse + waiting;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Shards that ask for top logprobs, prompt scores or stream progress are decoded by the
   * shard-at-a-time loop ({@link ShardDecoder}) on the calling thread: the batched loop does not
   * produce those (yet); their samples are the same either way. Once {@code aborted} is true
   * (checked before each pass) the shard's unfinished samples are emitted as they stand with finish
   * reason ABORTED.
   */
  @Override
  public void run(
      ResolvedShard shard,
      Consumer<SampleResult> out,
      ProgressSink progress,
      BooleanSupplier cancelled,
      BooleanSupplier aborted) {
    if (progress != null || shard.topLogprobs() > 0 || shard.promptLogprobs() >= 0) {
      fallback.run(shard, out, progress, cancelled, aborted);
      return;
    }
    runBatched(shard, out, cancelled, aborted);
  }

  private void runBatched(
      ResolvedShard shard,
      Consumer<SampleResult> out,
      BooleanSupplier cancelled,
      BooleanSupplier aborted) {
    Group g = prepare(shard, out, cancelled);
    if (g != null) {
      g.aborted = aborted;
    }
    if (g == null) {
      return;
    }
    enqueue(g);
    try {
      g.done.get();
    } catch (InterruptedException e) {
      g.abandoned = true;
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(c);
    }
  }

  /**
   * Hands a shard to the loop without waiting; the future completes when its last sample was
   * emitted, or it was cancelled, or it failed (exceptionally).
   *
   * @throws BadInputException at once for a shard that cannot be decoded
   */
  public CompletableFuture<Void> submit(
      ResolvedShard shard, Consumer<SampleResult> out, BooleanSupplier cancelled) {
    if (shard.topLogprobs() > 0 || shard.promptLogprobs() >= 0) {
      return CompletableFuture.runAsync(() -> fallback.run(shard, out, cancelled));
    }
    Group g = prepare(shard, out, cancelled);
    if (g == null) {
      return CompletableFuture.completedFuture(null);
    }
    enqueue(g);
    return g.done;
  }

  private Group prepare(
      ResolvedShard shard, Consumer<SampleResult> out, BooleanSupplier cancelled) {
    ShardPlan plan = ShardPlan.of(shard, backend.info(), tokenizer);
    if (plan == null) {
      return null;
    }
    Group g = new Group(plan, plan.samples(noises, tokenizer), out, cancelled);
    g.bytes = backend.sessionBytes(plan.prompt().length, g.samples.length, plan.maxNew());
    return g;
  }

  private void enqueue(Group g) {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException(
            "the decode loop of model '" + backend.info().id() + "' is closed");
      }
      pending.add(g);
      work.signal();
    } finally {
      lock.unlock();
    }
  }

  /** Stops the loop; shards not finished complete exceptionally. */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      work.signal();
    } finally {
      lock.unlock();
    }
    loop.interrupt();
    try {
      loop.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    fallback.close();
  }

  // ------------------------------------------------------------------ the loop

  /** Prompt tokens compared by content. */
  private record PromptKey(int[] tokens) {
    @Override
    public boolean equals(Object o) {
      return o instanceof PromptKey k && Arrays.equals(tokens, k.tokens);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(tokens);
    }
  }

  /** One admitted shard: its session and the samples still decoding. */
  private static final class Group {
    final ShardPlan plan;
    final SampleState[] samples;
    final Consumer<SampleResult> out;
    final BooleanSupplier cancelled;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    /** The session's memory bound ({@link ModelBackend#sessionBytes}). */
    long bytes;

    /** True once a policy published in abort mode went live: emit the live samples ABORTED. */
    volatile BooleanSupplier aborted = () -> false;

    /** Set by a caller of run() that was interrupted: stop like a cancellation. */
    volatile boolean abandoned;

    DecodeSession session;

    /** True when {@link #session} computed (or will compute) the prompt, not shared another's. */
    boolean ownsPrompt;

    /**
     * Samples (by sequence id) still decoding, and for each its class: samples whose tokens are the
     * same so far form a class, whose next logits are one row computed for its first member.
     */
    int[] live;

    int[] liveClass;
    int count;

    /** Classes: the sequence whose row is computed, and the token it appends next. */
    int[] classSequence;

    int[] classToken;
    int classes;

    /** Spare arrays the next {@link #advance} writes into (then swapped in). */
    int[] live2;

    int[] liveClass2;
    int[] classSequence2;
    int[] classToken2;

    /** First row of this group in the current pass's logits. */
    int row;

    boolean prefilledThisPass;

    Group(
        ShardPlan plan,
        SampleState[] samples,
        Consumer<SampleResult> out,
        BooleanSupplier cancelled) {
      this.plan = plan;
      this.samples = samples;
      this.out = out;
      this.cancelled = cancelled;
      int k = samples.length;
      this.live = new int[k];
      this.liveClass = new int[k];
      this.classSequence = new int[k];
      this.classToken = new int[k];
      this.live2 = new int[k];
      this.liveClass2 = new int[k];
      this.classSequence2 = new int[k];
      this.classToken2 = new int[k];
    }

    boolean stopped() {
      return abandoned || cancelled.getAsBoolean();
    }
  }

  private void loop() {
    List<Group> active = new ArrayList<>();
    float[] logits = new float[0];
    while (true) {
      List<Group> admitted;
      try {
        admitted = admit(active);
      } catch (InterruptedException e) {
        break;
      }
      if (admitted == null) {
        break;
      }
      // Open the admitted shards' sessions; their prompts join this pass when the backend allows.
      // Drop stopped shards before spending a pass on them (and before another shard could
      // share their prompt cache).
      for (Group g : active) {
        if (g.stopped()) {
          finish(g, null);
        } else if (g.aborted.getAsBoolean()) {
          try {
            for (int r = 0; r < g.count; r++) {
              g.out.accept(
                  g.samples[g.live[r]].aborted(
                      g.plan.shard(), g.plan.promptSeed(), g.plan.params()));
            }
            finish(g, null);
          } catch (RuntimeException | Error e) {
            fail(g, e);
          }
        }
      }
      active.removeIf(g -> g.done.isDone());
      // A prompt already held by a live session (another shard of it) is not computed again.
      List<DecodeSession> prefill = new ArrayList<>();
      Map<PromptKey, DecodeSession> prompts = new HashMap<>();
      if (batched != null && !admitted.isEmpty()) {
        for (Group g : active) {
          prompts.put(new PromptKey(g.plan.prompt()), g.session);
        }
      }
      for (Group g : admitted) {
        try {
          PromptKey key = new PromptKey(g.plan.prompt());
          DecodeSession same = batched == null ? null : prompts.get(key);
          if (same == null && batched != null) {
            CachedPrompt c = promptCache.get(key);
            if (c != null) {
              same = c.session();
              promptCacheHits.incrementAndGet();
            }
          }
          boolean join = batched != null && g.plan.prompt().length <= maxPrefillTokens;
          if (same != null) {
            g.session = batched.openSharing(same, g.samples.length, g.plan.maxNew());
          } else if (join) {
            g.session = batched.openDeferred(g.plan.prompt(), g.samples.length, g.plan.maxNew());
            g.ownsPrompt = true;
            prefill.add(g.session);
          } else {
            g.session = backend.open(g.plan.prompt(), g.samples.length, g.plan.maxNew());
            g.ownsPrompt = true;
          }
          if (batched != null) {
            prompts.putIfAbsent(key, g.session);
          }
          g.prefilledThisPass = true;
          active.add(g);
        } catch (RuntimeException | Error e) {
          fail(g, e);
        }
      }
      int n = 0;
      for (Group g : active) {
        if (!g.prefilledThisPass) {
          g.row = n;
          n += g.classes;
        }
      }
      if (logits.length < n * vocab) {
        logits = new float[Math.max(n, Math.min(maxRows, 2 * n)) * vocab];
      }
      try {
        forward(active, prefill, n, logits);
      } catch (RuntimeException | Error e) {
        for (Group g : active) {
          fail(g, e);
        }
        active.clear();
        continue;
      }
      for (Group g : active) {
        try {
          if (g.prefilledThisPass) {
            g.prefilledThisPass = false;
            float[] first = g.session.promptLogits();
            for (int j = 0; j < g.samples.length; j++) {
              g.live[j] = j;
            }
            g.count = g.samples.length;
            advance(g, first, 0, true);
          } else {
            advance(g, logits, g.row, false);
          }
          if (g.count == 0) {
            retire(g);
          }
        } catch (RuntimeException | Error e) {
          fail(g, e);
        }
      }
      active.removeIf(g -> g.done.isDone());
      int rows = 0;
      for (Group g : active) {
        rows += g.samples.length;
      }
      rowsInUse = rows;
    }
    for (Group g : active) {
      fail(g, new IllegalStateException("the decode loop was closed"));
    }
    while (!promptCache.isEmpty()) {
      evictOldestPrompt();
    }
    lock.lock();
    try {
      for (Group g : pending) {
        g.done.completeExceptionally(new IllegalStateException("the decode loop was closed"));
      }
      pending.clear();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes the waiting shards that fit (see the class comment), waiting while nothing is active and
   * nothing waits. Returns null once closed.
   */
  private List<Group> admit(List<Group> active) throws InterruptedException {
    int rows = 0;
    long bytes = 0;
    for (Group g : active) {
      rows += g.samples.length;
      bytes += g.bytes;
    }
    long budget = backend.memoryBudgetBytes();
    List<Group> admitted = new ArrayList<>();
    lock.lock();
    try {
      while (!closed && active.isEmpty() && pending.isEmpty()) {
        work.await();
      }
      if (closed) {
        return null;
      }
      int prefillTokens = 0;
      while (!pending.isEmpty()) {
        Group g = pending.peek();
        int n = g.samples.length;
        int p = g.plan.prompt().length;
        boolean empty = rows == 0 && admitted.isEmpty();
        boolean fitsRows = rows + n <= maxRows || empty;
        boolean fitsPrefill = admitted.isEmpty() || prefillTokens + p <= maxPrefillTokens;
        boolean fitsMemory = empty || bytes + promptCacheUsed + g.bytes <= budget;
        while (!fitsMemory && !promptCache.isEmpty()) {
          evictOldestPrompt(); // cached prompts make room for running shards
          fitsMemory = bytes + promptCacheUsed + g.bytes <= budget;
        }
        if (!fitsRows || !fitsPrefill || !fitsMemory) {
          break;
        }
        pending.poll();
        if (g.stopped()) {
          g.done.complete(null);
          continue;
        }
        admitted.add(g);
        rows += n;
        bytes += g.bytes;
        prefillTokens += p;
      }
    } finally {
      lock.unlock();
    }
    rowsInUse = rows;
    return admitted;
  }

  /** One forward pass: the running rows (in group order) plus the listed prompts. */
  private void forward(List<Group> active, List<DecodeSession> prefill, int n, float[] logits) {
    if (n == 0 && prefill.isEmpty()) {
      return;
    }
    if (batched != null) {
      DecodeSession[] sessions = new DecodeSession[n];
      int[] seqs = new int[n];
      int[] toks = new int[n];
      for (Group g : active) {
        if (g.prefilledThisPass) {
          continue;
        }
        for (int j = 0; j < g.classes; j++) {
          sessions[g.row + j] = g.session;
          seqs[g.row + j] = g.classSequence[j];
          toks[g.row + j] = g.classToken[j];
        }
      }
      batched.step(prefill, sessions, seqs, toks, n, logits);
      return;
    }
    // A backend without cross-session passes: one pass per session, into the same rows.
    for (Group g : active) {
      if (g.prefilledThisPass || g.classes == 0) {
        continue;
      }
      float[] part = new float[g.classes * vocab];
      g.session.step(g.classSequence, g.classToken, g.classes, part);
      System.arraycopy(part, 0, logits, g.row * vocab, g.classes * vocab);
    }
  }

  /**
   * Picks each live sample's token from its class's logits row ({@code shared}: one row for all,
   * the prompt logits), records it, emits the samples that finished and keeps the rest live.
   *
   * <p>Then the classes of the next pass: the live samples of a class that picked the same token
   * still have the same tokens, so they stay one class and one row is computed for them (on a
   * {@link BatchedDecoding} backend; otherwise every sample is a class of its own). A class's first
   * member keeps its row when it continues; a new class whose first member had no row of its own
   * takes a copy of its old class's cache ({@link BatchedDecoding#copySequence}). The row it gets
   * is the row it would have computed itself (same tokens at the same positions over the same
   * cache), so its bytes are those of a solo run. Finished samples release their cache after the
   * copies.
   */
  private void advance(Group g, float[] rows, int firstRow, boolean shared) {
    ShardPlan plan = g.plan;
    int count = g.count;
    int[] token = new int[count];
    boolean[] finished = new boolean[count];
    for (int r = 0; r < count; r++) {
      SampleState s = g.samples[g.live[r]];
      int offset = shared ? 0 : (firstRow + g.liveClass[r]) * vocab;
      TokenChoice c = sampler.select(rows, offset, vocab, plan.params(), s.noise);
      FinishReason reason =
          s.accept(
              c,
              plan.stopIds(),
              plan.params(),
              plan.prompt().length,
              backend.info().contextLength());
      token[r] = c.token();
      if (reason != null) {
        finished[r] = true;
        g.out.accept(s.result(plan.shard(), plan.promptSeed(), reason));
      }
    }
    // Classes of the next pass, keyed by (old class, token); a class's old first member first,
    // so that it keeps its row and cache.
    Map<Long, Integer> next = new HashMap<>();
    int[] live = g.live2;
    int[] liveClass = g.liveClass2;
    int[] classSequence = g.classSequence2;
    int[] classToken = g.classToken2;
    int classes = 0;
    int kept = 0;
    List<int[]> copies = new ArrayList<>();
    for (int pass = 0; pass < 2; pass++) {
      for (int r = 0; r < count; r++) {
        if (finished[r]) {
          continue;
        }
        int seq = g.live[r];
        int old = shared ? -1 : g.liveClass[r];
        boolean first = old >= 0 && g.classSequence[old] == seq;
        long key = batched == null ? seq : ((long) (old + 1) << 32) | (token[r] & 0xffffffffL);
        Integer c = next.get(key);
        if (pass == 0) {
          if (first) {
            next.put(key, classes);
            classSequence[classes] = seq;
            classToken[classes++] = token[r];
          }
          continue;
        }
        if (c == null) {
          c = classes;
          next.put(key, c);
          classSequence[classes] = seq;
          classToken[classes++] = token[r];
          if (old >= 0 && !first) {
            copies.add(new int[] {g.classSequence[old], seq});
          }
        }
        live[kept] = seq;
        liveClass[kept++] = c;
      }
    }
    for (int[] cp : copies) {
      batched.copySequence(g.session, cp[0], cp[1]);
    }
    for (int r = 0; r < count; r++) {
      if (finished[r]) {
        g.session.release(g.live[r]);
      }
    }
    g.live2 = g.live;
    g.liveClass2 = g.liveClass;
    g.classSequence2 = g.classSequence;
    g.classToken2 = g.classToken;
    g.live = live;
    g.liveClass = liveClass;
    g.classSequence = classSequence;
    g.classToken = classToken;
    g.count = kept;
    g.classes = classes;
    sharedRows.addAndGet(kept - classes);
  }

  /**
   * A shard whose samples all finished: its prompt session (if it owns one, on a backend whose
   * sessions can be shared) goes to the prompt cache, the least recently used cached prompts out
   * beyond {@code promptCacheBytes}; then the shard completes.
   */
  private void retire(Group g) {
    if (batched == null || !g.ownsPrompt || promptCacheBytes == 0) {
      finish(g, null);
      return;
    }
    // The prompt's KV cache (slots rounded up to a block of 16, as the CPU backend stores keys)
    // and its logits.
    long bytes = backend.info().kvBytesPerToken() * (g.plan.prompt().length + 16L) + 4L * vocab;
    if (bytes <= promptCacheBytes) {
      CachedPrompt old =
          promptCache.put(new PromptKey(g.plan.prompt()), new CachedPrompt(g.session, bytes));
      promptCacheUsed += bytes;
      if (old != null) {
        promptCacheUsed -= old.bytes();
        closeQuietly(old.session());
      }
      while (promptCacheUsed > promptCacheBytes) {
        evictOldestPrompt();
      }
      g.session = null; // the cache owns it now
    }
    finish(g, null);
  }

  private void evictOldestPrompt() {
    Iterator<CachedPrompt> it = promptCache.values().iterator();
    CachedPrompt c = it.next();
    it.remove();
    promptCacheUsed -= c.bytes();
    closeQuietly(c.session());
  }

  private static void closeQuietly(DecodeSession s) {
    try {
      s.close();
    } catch (RuntimeException ignored) {
      // nothing depends on it any more
    }
  }

  private static void finish(Group g, Throwable error) {
    if (g.session != null) {
      try {
        g.session.close();
      } catch (RuntimeException ignored) {
        // the shard's outcome is already decided
      }
    }
    if (error == null) {
      g.done.complete(null);
    } else {
      g.done.completeExceptionally(error);
    }
  }

  private static void fail(Group g, Throwable e) {
    finish(g, e);
  }

  /** For tests and benchmarks: the model this loop decodes. */
  ModelInfo info() {
    return backend.info();
  }
}
