package dev.perceiver.runtime;

import dev.perceiver.ops.Parallel;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The engine's worker threads; each engine owns one (no global pool). The calling thread always works on its own
 * loop, so nested loops and many callers sharing one pool cannot deadlock: helpers that start late find no work.
 */
public final class ThreadPool implements Parallel, AutoCloseable {
    /**
     * Chunks a loop is cut into, per thread, at most (callers set a grain that bounds them below): a matrix product's
     * 16-18 units in 8 chunks of 2 or 3 left one thread idle for up to a chunk at its end, 5-10% of the product.
     */
    private static final int CHUNKS_PER_THREAD = 16;

    private final int threads;
    private final ExecutorService helpers;

    public ThreadPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        this.threads = threads;
        AtomicInteger id = new AtomicInteger();
        this.helpers = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "perceiver-worker-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** One thread per processor this JVM may use (container limits included). */
    public static ThreadPool ofAvailableProcessors() {
        return new ThreadPool(Runtime.getRuntime().availableProcessors());
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        grain = Math.max(1, grain);
        int chunks = (int) Math.min((n + (long) grain - 1) / grain, (long) threads * CHUNKS_PER_THREAD);
        if (threads == 1 || chunks <= 1) {
            body.run(0, n);
            return;
        }
        Loop loop = new Loop(n, chunks, body, Thread.currentThread());
        int extra = Math.min(threads - 1, chunks - 1);
        for (int i = 0; i < extra; i++) helpers.execute(loop::work);
        loop.work();
        loop.await();
    }

    @Override
    public void close() {
        if (helpers != null) helpers.shutdownNow();
    }

    /** One parallel loop: chunks are claimed from a counter by whoever is free. */
    private static final class Loop {
        final int n, chunks;
        final RangeBody body;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Loop(int n, int chunks, RangeBody body, Thread caller) {
            this.n = n;
            this.chunks = chunks;
            this.body = body;
            this.caller = caller;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    if (failure.get() == null) body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == chunks) LockSupport.unpark(caller);
                }
            }
        }

        void await() {
            int spins = 0;
            while (done.get() < chunks) {
                if (++spins < 1000) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 50_000);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }
}
