package ai.chunkwise.childjvm;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A job run as a separate JVM: this JVM's {@code java}, the --add-opens Spark and Arrow need on Java 17, one
 * OpenMP/OpenBLAS thread, and this JVM's class path with every entry absolute. The benchmarks run each measurement
 * in one (a fresh heap and RSS to measure); the fault suite runs the jobs in one so that it can kill them with
 * SIGKILL.
 */
public final class ChildJvm {
    /** What Spark and Arrow need on Java 17 (the same as spark-submit adds; a jar's manifest gives them to `java -jar` only). */
    private static final List<String> OPENS = List.of("java.base/java.nio", "java.base/sun.nio.ch",
            "java.base/java.lang", "java.base/java.lang.invoke", "java.base/java.util",
            "java.base/java.util.concurrent", "java.base/sun.nio.cs", "java.base/sun.security.action",
            "java.base/sun.util.calendar", "java.base/java.io", "java.base/java.net", "java.base/java.lang.reflect");

    private final String mainClass;
    private final List<String> args;
    private final List<String> classPath;
    private final List<String> jvmOptions = new ArrayList<>();

    private ChildJvm(String mainClass, List<String> args, List<String> classPath) {
        this.mainClass = mainClass;
        this.args = List.copyOf(args);
        this.classPath = new ArrayList<>(classPath);
    }

    /** The main class's own code source (its jar, or classes directory) first, then this JVM's class path. */
    public static ChildJvm of(Class<?> mainClass, List<String> args) {
        List<String> entries = new ArrayList<>();
        entries.add(codeSource(mainClass).toString());
        entries.addAll(parentClassPath());
        return new ChildJvm(mainClass.getName(), args, List.copyOf(new LinkedHashSet<>(entries)));
    }

    /** A main class this JVM's class path reaches (by name: one this module cannot see as a class). */
    public static ChildJvm of(String mainClass, List<String> args) {
        return new ChildJvm(mainClass, args, parentClassPath());
    }

    /**
     * This JVM's own options (heap size, -D values, JavaCPP limits) apply to the child too, plus the current value
     * of each named system property (one set at run time is not among the options).
     */
    public ChildJvm inheritingJvmOptions(String... systemProperties) {
        jvmOptions.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        for (String name : systemProperties) {
            String value = System.getProperty(name);
            if (value != null) {
                jvmOptions.add("-D" + name + "=" + value);
            }
        }
        return this;
    }

    /** Options added after any inherited ones, so they win (e.g. another -Xmx or -D value). */
    public ChildJvm withJvmOptions(List<String> options) {
        jvmOptions.addAll(options);
        return this;
    }

    /** Leaves out the class path entries {@code drop} accepts (their absolute path is tested). */
    public ChildJvm withoutClassPathEntries(Predicate<String> drop) {
        classPath.removeIf(drop);
        return this;
    }

    public ProcessBuilder processBuilder() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String opens : OPENS) {
            cmd.add("--add-opens=" + opens + "=ALL-UNNAMED");
        }
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, classPath));
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        return pb;
    }

    /** Starts it with its standard output and error both written to {@code log}. */
    public Process start(Path log) {
        try {
            return processBuilder().redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + mainClass + ": " + e.getMessage(), e);
        }
    }

    /** Runs it to the end (killed after {@code timeoutSeconds}); returns its exit code. */
    public int run(Path log, long timeoutSeconds) {
        Process p = start(log);
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                kill(p);
                throw new IllegalStateException(mainClass + " did not finish within " + timeoutSeconds + " s (log " + log + ")");
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill(p);
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** kill -9: Process.destroyForcibly sends SIGKILL on Linux; waits until the process is gone. */
    public static void kill(Process p) {
        p.destroyForcibly();
        try {
            p.waitFor(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> parentClassPath() {
        Set<String> entries = new LinkedHashSet<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isEmpty()) {
                entries.add(Path.of(e).toAbsolutePath().normalize().toString());
            }
        }
        return List.copyOf(entries);
    }

    /** The jar (or classes directory, when run from the build) a class was loaded from. */
    static Path codeSource(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath().normalize();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the code source of " + c.getName() + ": " + e.getMessage(), e);
        }
    }
}
