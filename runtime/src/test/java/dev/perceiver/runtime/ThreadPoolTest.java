package dev.perceiver.runtime;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ThreadPoolTest {

    /** Runs forRange(n, grain) and returns how often each index was visited. */
    private static AtomicIntegerArray visits(ThreadPool pool, int n, int grain) {
        AtomicIntegerArray seen = new AtomicIntegerArray(n);
        pool.forRange(n, grain, (from, to) -> {
            for (int i = from; i < to; i++) seen.incrementAndGet(i);
        });
        return seen;
    }

    private static void assertEachOnce(AtomicIntegerArray seen) {
        for (int i = 0; i < seen.length(); i++) assertThat(seen.get(i)).as("index %d", i).isEqualTo(1);
    }

    @Test
    void everyIndexRunsOnceInLoopAfterLoopWhetherHelpersPolledOrParked() throws InterruptedException {
        try (ThreadPool pool = new ThreadPool(3)) {
            for (int n : new int[] {1, 2, 7, 33, 1000}) assertEachOnce(visits(pool, n, 1));
            // Loops back to back find helpers polling; after a pause of several milliseconds they are parked.
            for (int round = 0; round < 200; round++) assertEachOnce(visits(pool, 97, 3));
            Thread.sleep(20);
            assertEachOnce(visits(pool, 1000, 1));
        }
    }

    @Test
    void helpersTakeChunksOfALongLoop() {
        try (ThreadPool pool = new ThreadPool(2)) {
            Set<Thread> ran = ConcurrentHashMap.newKeySet();
            for (int round = 0; round < 50 && ran.size() < 2; round++)
                pool.forRange(32, 1, (from, to) -> {
                    ran.add(Thread.currentThread());
                    long until = System.nanoTime() + 200_000;
                    while (System.nanoTime() < until) Thread.onSpinWait();
                });
            assertThat(ran).as("the caller and its helper both ran chunks").hasSize(2);
        }
    }

    @Test
    void nestedLoopsAndManyCallersEachFinishTheirOwnLoops() throws Exception {
        try (ThreadPool pool = new ThreadPool(2); ExecutorService callers = Executors.newFixedThreadPool(4)) {
            List<Future<AtomicIntegerArray>> results = new ArrayList<>();
            for (int c = 0; c < 8; c++)
                results.add(callers.submit(() -> {
                    AtomicIntegerArray seen = new AtomicIntegerArray(64 * 33);
                    pool.forRange(64, 1, (from, to) -> {
                        for (int i = from; i < to; i++) {
                            int row = i;
                            pool.forRange(33, 1, (a, b) -> {
                                for (int j = a; j < b; j++) seen.incrementAndGet(row * 33 + j);
                            });
                        }
                    });
                    return seen;
                }));
            for (Future<AtomicIntegerArray> r : results) assertEachOnce(r.get(60, TimeUnit.SECONDS));
        }
    }

    @Test
    void aFailingChunkFailsItsLoopAndLeavesThePoolUsable() {
        try (ThreadPool pool = new ThreadPool(2)) {
            assertThatThrownBy(() -> pool.forRange(100, 1, (from, to) -> {
                if (from <= 50 && 50 < to) throw new IllegalArgumentException("chunk at 50");
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("chunk at 50");
            assertEachOnce(visits(pool, 100, 1));
        }
    }

    @Test
    void closingStopsTheHelpers() throws InterruptedException {
        Set<Thread> before = workers();
        ThreadPool pool = new ThreadPool(3);
        Set<Thread> ours = workers();
        ours.removeAll(before);
        assertThat(ours).hasSize(2);
        assertEachOnce(visits(pool, 100, 1));
        pool.close();
        for (Thread t : ours) {
            t.join(10_000);
            assertThat(t.isAlive()).as(t.getName()).isFalse();
        }
    }

    private static Set<Thread> workers() {
        Set<Thread> workers = ConcurrentHashMap.newKeySet();
        for (Thread t : Thread.getAllStackTraces().keySet())
            if (t.getName().startsWith("perceiver-worker-")) workers.add(t);
        return workers;
    }
}
