package dev.perceiver.runtime;

import dev.perceiver.ops.Parallel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
    /**
     * How long an idle helper, and a caller waiting for its loop's last chunks, poll before they park. A parked helper
     * on a virtual machine joined a loop 60-130 µs after it was posted (median ~100 µs into vision-conv's 4 ms
     * products), where a pass posts its next loop within a millisecond of the last. They poll by yielding, so that
     * other runnable threads get the processor: two 2-thread processes on two cores ran language-mlm ~12% slower when
     * the polls only spun.
     */
    private static final long SPIN_NANOS = 1_000_000;

    private final int threads;
    private final Thread[] helpers;
    /** The loop helpers join: the latest posted and not yet finished (its caller finishes it in any case). */
    private final AtomicReference<Loop> posted = new AtomicReference<>();
    /** Helpers parked or about to park: a post unparks them (it checks after posting, as they check after counting). */
    private final AtomicInteger parked = new AtomicInteger();
    private volatile boolean closed;
    private final AtomicLong loops = new AtomicLong();

    public ThreadPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        this.threads = threads;
        this.helpers = new Thread[threads - 1];
        for (int i = 0; i < helpers.length; i++) {
            helpers[i] = new Thread(this::help, "perceiver-worker-" + (i + 1));
            helpers[i].setDaemon(true);
            helpers[i].start();
        }
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
        Loop loop = new Loop(loops.incrementAndGet(), n, chunks, body, Thread.currentThread());
        posted.set(loop);
        if (parked.get() > 0) for (Thread h : helpers) LockSupport.unpark(h);
        try {
            loop.work();
            loop.await();
        } finally {
            posted.compareAndSet(loop, null);  // a failed loop, too, lets go of its body
        }
    }

    /** A helper's life: join each newly posted loop, poll for the next a while, then park until one is posted. */
    private void help() {
        long seen = 0;
        long idleSince = System.nanoTime();
        while (!closed) {
            Loop loop = posted.get();
            if (loop != null && loop.id != seen) {
                seen = loop.id;
                loop.work();
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                Thread.yield();
            } else {
                parked.incrementAndGet();
                loop = posted.get();
                if ((loop == null || loop.id == seen) && !closed) LockSupport.park(this);
                parked.decrementAndGet();
                idleSince = System.nanoTime();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread h : helpers) LockSupport.unpark(h);
    }

    /** One parallel loop: chunks are claimed from a counter by whoever is free. */
    private static final class Loop {
        final long id;
        final int n, chunks;
        final RangeBody body;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Loop(long id, int n, int chunks, RangeBody body, Thread caller) {
            this.id = id;
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
            long since = System.nanoTime();
            while (done.get() < chunks) {
                if (System.nanoTime() - since < SPIN_NANOS) Thread.yield();
                else LockSupport.parkNanos(this, 50_000);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }
}
