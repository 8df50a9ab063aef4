package ai.chunkwise.train.memory;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The one memory budget of a run ({@code train.memory.limit}): the resident memory the process may use. It becomes
 * JavaCPP's limits ({@value #MAX_PHYSICAL_BYTES}, {@value #MAX_BYTES}), which JavaCPP reads once, when its
 * {@code Pointer} class loads (i.e. when ND4J starts), so {@link #apply} must run before anything touches ND4J.
 * Past the limit JavaCPP collects garbage and retries before it gives up with an OutOfMemoryError, which
 * {@link OutOfMemory} turns into a message naming the budget. The up-front memory estimate is checked against the
 * same figure (MemoryEstimate.availableBytes reads JavaCPP's limit).
 *
 * @param bytes  the limit
 * @param origin where it came from, for messages ("train.memory.limit = 12G", "auto: MemAvailable ...")
 */
public record MemoryBudget(long bytes, String origin) {
    public static final String KEY = "train.memory.limit";
    public static final String AUTO = "auto";
    static final String MAX_BYTES = "org.bytedeco.javacpp.maxBytes";
    static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";
    /** cgroup v1 reports "no limit" as a huge page-aligned number (2^63 - 4096 on x86-64). */
    private static final long UNLIMITED = 1L << 60;

    private static final Logger LOG = LoggerFactory.getLogger(MemoryBudget.class);
    /** The budget {@link #apply} put in force in this JVM (null before), for the out-of-memory message. */
    private static volatile MemoryBudget inForce;

    public MemoryBudget {
        if (bytes <= 0) {
            throw new IllegalArgumentException(KEY + " must be a positive size, got " + bytes + " bytes (" + origin + ")");
        }
    }

    /** {@value #KEY} from a train configuration: {@value #AUTO} or a size ("12G", "12 GiB", "800M", bytes). */
    public static MemoryBudget of(Config root) {
        String raw = root.getValue(KEY).unwrapped().toString().trim();
        if (raw.equalsIgnoreCase(AUTO)) {
            return machineFree();
        }
        long bytes;
        try {
            bytes = root.getBytes(KEY);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            throw new IllegalArgumentException(KEY + " must be \"auto\" or a size such as 12G, 800M or 12 GiB, got '"
                    + raw + "'");
        }
        if (bytes <= 0) {
            throw new IllegalArgumentException(KEY + " must be a positive size, got '" + raw + "'");
        }
        return new MemoryBudget(bytes, KEY + " = " + raw);
    }

    /** A value as {@value #KEY} takes it (a command-line option's). */
    public static MemoryBudget parse(String value) {
        return of(com.typesafe.config.ConfigFactory.parseMap(java.util.Map.of(KEY, value)));
    }

    /**
     * The default: what this machine has free now plus what this process already holds (the limit is on the
     * process's resident set), within the cgroup's limit if the process has one.
     */
    public static MemoryBudget machineFree() {
        return machineFree(Path.of("/proc/meminfo"), Path.of("/sys/fs/cgroup/memory.max"),
                Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes"), PeakMemory.residentSetBytes());
    }

    static MemoryBudget machineFree(Path meminfo, Path cgroupV2Max, Path cgroupV1Limit, long ownResident) {
        long free = memAvailable(meminfo);
        long available = free > 0 ? free + ownResident : 0;
        long cgroup = Math.min(cgroupLimit(cgroupV2Max), cgroupLimit(cgroupV1Limit));
        if (available <= 0 && cgroup == Long.MAX_VALUE) {
            // no /proc (not Linux): the RAM JavaCPP sees
            long total = org.bytedeco.javacpp.Pointer.totalPhysicalBytes();
            return new MemoryBudget(total, KEY + " = auto: the machine's RAM, " + gib(total));
        }
        if (available > 0 && available <= cgroup) {
            return new MemoryBudget(available, KEY + " = auto: the memory this machine has free (MemAvailable "
                    + gib(free) + ") and this process holds, " + gib(available));
        }
        return new MemoryBudget(cgroup, KEY + " = auto: the container's memory limit (cgroup), " + gib(cgroup));
    }

    private static long memAvailable(Path meminfo) {
        try {
            for (String line : Files.readAllLines(meminfo)) {
                if (line.startsWith("MemAvailable:")) {
                    String[] parts = line.substring("MemAvailable:".length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;   // the kernel's "kB" are KiB
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** A cgroup memory limit file's value; Long.MAX_VALUE where there is none ("max", absent, or huge). */
    private static long cgroupLimit(Path file) {
        try {
            String v = Files.readString(file).trim();
            if (v.equals("max")) {
                return Long.MAX_VALUE;
            }
            long limit = Long.parseLong(v);
            return limit <= 0 || limit >= UNLIMITED ? Long.MAX_VALUE : limit;
        } catch (IOException | RuntimeException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Makes this budget JavaCPP's limits; must run before ND4J loads (JavaCPP reads them once). Limits given with
     * -D on the java command line are kept (with a warning when they differ). Returns the budget in force: this
     * one, or JavaCPP's own physical limit where it had already started or -D set it.
     */
    public MemoryBudget apply() {
        String userPhysical = System.getProperty(MAX_PHYSICAL_BYTES, System.getProperty(MAX_PHYSICAL_BYTES.toLowerCase(Locale.ROOT)));
        if (userPhysical == null || inForce != null) {
            System.setProperty(MAX_PHYSICAL_BYTES, Long.toString(bytes));
        }
        if (System.getProperty(MAX_BYTES, System.getProperty(MAX_BYTES.toLowerCase(Locale.ROOT))) == null
                || inForce != null) {
            System.setProperty(MAX_BYTES, Long.toString(bytes));
        }
        long effective = org.bytedeco.javacpp.Pointer.maxPhysicalBytes();   // loads JavaCPP with the values above
        MemoryBudget result = this;
        if (effective != bytes) {
            result = new MemoryBudget(effective, userPhysical != null && inForce == null
                    ? "-D" + MAX_PHYSICAL_BYTES + "=" + userPhysical
                    : "JavaCPP's limit, fixed when ND4J was first loaded in this JVM");
            // a -D limit the user gave with the default "auto" is a choice, not a conflict worth a warning
            String message = "{} ({}) is not in force: JavaCPP's limit is {} ({})";
            if (origin.startsWith(KEY + " = " + AUTO)) {
                LOG.info(message, origin, gib(bytes), gib(effective), result.origin);
            } else {
                LOG.warn(message, origin, gib(bytes), gib(effective), result.origin);
            }
        }
        inForce = result;
        return result;
    }

    /** The budget {@link #apply} put in force, or JavaCPP's own limit if none was applied in this JVM. */
    public static MemoryBudget current() {
        MemoryBudget b = inForce;
        return b != null ? b : new MemoryBudget(org.bytedeco.javacpp.Pointer.maxPhysicalBytes(),
                "JavaCPP's default limit (no " + KEY + " applied)");
    }

    public String describe() {
        return gib(bytes) + " (" + origin + ")";
    }

    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
