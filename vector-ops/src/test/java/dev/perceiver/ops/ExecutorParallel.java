package dev.perceiver.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** A real multi-threaded Parallel for tests: ranges of about n / (3·threads) run on a fixed pool. */
final class ExecutorParallel implements Parallel, AutoCloseable {
    private final int threads;
    private final ExecutorService pool;

    ExecutorParallel(int threads) {
        this.threads = threads;
        this.pool = Executors.newFixedThreadPool(threads);
    }

    @Override
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = (int) Math.max(1, Math.min((n + (long) grain - 1) / Math.max(1, grain), 3L * threads));
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            int start = (int) ((long) n * c / chunks), end = (int) ((long) n * (c + 1) / chunks);
            done.add(pool.submit(() -> body.run(start, end)));
        }
        try {
            for (Future<?> f : done) f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
