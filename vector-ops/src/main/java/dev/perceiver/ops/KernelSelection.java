package dev.perceiver.ops;

import java.lang.management.ManagementFactory;

/**
 * Chooses the kernels for a {@link KernelChoice}: the Vector API implementation when the incubator module is present
 * and the JIT can intrinsify it (then warmed up once per JVM, see {@link WarmUp}), else the scalar twins with one
 * warning that says why and how to fix it. Each choice is resolved once per JVM.
 */
final class KernelSelection {
    private static final System.Logger LOG = System.getLogger("dev.perceiver.ops");
    private static volatile Kernels auto;
    private static volatile Kernels forced;
    private static volatile Thread warmUp;

    private KernelSelection() {}

    static Kernels select(KernelChoice choice) {
        if (choice == KernelChoice.SCALAR) {
            LOG.log(System.Logger.Level.INFO, "kernels: scalar (chosen with kernels=scalar)");
            return Kernels.scalar();
        }
        Kernels k = choice == KernelChoice.AUTO ? auto : forced;
        if (k != null) return k;
        synchronized (KernelSelection.class) {
            if (choice == KernelChoice.AUTO) {
                if (auto == null) auto = choose(false);
                return auto;
            }
            if (forced == null) forced = choose(true);
            return forced;
        }
    }

    private static Kernels choose(boolean force) {
        String problem = vectorProblem(force);
        if (problem != null) {
            LOG.log(System.Logger.Level.WARNING, "kernels: scalar fallback, several times slower: " + problem);
            return Kernels.scalar();
        }
        try {
            Kernels v = (Kernels) Class.forName("dev.perceiver.ops.VectorKernels").getField("INSTANCE").get(null);
            if (warmUp == null && interpreterOnly() == null) warmUpInBackground(v);
            LOG.log(System.Logger.Level.INFO, "kernels: " + v.name() + (force ? " (chosen with kernels=vector)" : ""));
            return v;
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.log(System.Logger.Level.WARNING, "kernels: scalar fallback, the Vector API kernels failed to load: " + e);
            return Kernels.scalar();
        }
    }

    /** Why the Vector API kernels cannot run well here, or null if they can. */
    static String vectorProblem(boolean forced) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            return "the JVM was started without the Vector API module; add --add-modules jdk.incubator.vector "
                    + "(the ./perceiver launcher does this)";
        if (forced) return null;
        String vm = System.getProperty("java.vm.name", "");
        if (!vm.contains("HotSpot") && !vm.contains("OpenJDK"))
            return "the JVM '" + vm + "' may not intrinsify the Vector API (HotSpot/OpenJDK does); "
                    + "choose kernels=vector (--kernels vector) to force it";
        return interpreterOnly();
    }

    /**
     * Warms the kernels up on a daemon thread (see {@link WarmUp}), so that C2 compiles them while the caller goes on
     * loading a model; {@link #awaitWarmUp} waits for it.
     */
    private static void warmUpInBackground(Kernels v) {
        Thread t = new Thread(() -> {
            long t0 = System.nanoTime();
            int rounds = WarmUp.run(v);
            LOG.log(System.Logger.Level.DEBUG, "kernels warmed up: %d rounds in %.2f s".formatted(rounds,
                    (System.nanoTime() - t0) / 1e9));
        }, "perceiver-kernel-warm-up");
        t.setDaemon(true);
        warmUp = t;
        t.start();
    }

    /** Returns once the vector kernels' warm-up, if one was started by a selection, is over. */
    static void awaitWarmUp() {
        Thread t = warmUp;
        if (t == null) return;
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Why C2, which intrinsifies the Vector API, does not run in this JVM, or null if it does. */
    private static String interpreterOnly() {
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments())
            if (a.equals("-Xint") || a.startsWith("-XX:TieredStopAtLevel="))
                return "the option " + a + " keeps the C2 compiler, which intrinsifies the Vector API, from running";
        return null;
    }
}
