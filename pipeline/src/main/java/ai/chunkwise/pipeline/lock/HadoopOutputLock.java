package ai.chunkwise.pipeline.lock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The output lock on a Hadoop file system (hdfs://, s3a://, ...), where no lock is released by the death of its
 * holder: {@code .<name>.lock} next to the output directory, created exclusively ({@code create(overwrite=false)}:
 * one NameNode operation on HDFS, so of two jobs exactly one gets it) and refreshed by its holder every
 * {@link #HEARTBEAT}. A lock is stale, and taken over with a note, when its holder ran on this host and its process
 * is gone (a kill -9 followed by a re-run: taken over at once), or when it was not refreshed for
 * {@link #STALE_AFTER} (a holder on another host that died). Taking over renames the stale lock aside first (on
 * HDFS a rename succeeds for one contender only) and then creates a fresh one.
 *
 * <p>Limits (docs/reliability.md): a holder that cannot refresh its lock for {@link #STALE_AFTER} (a NameNode
 * outage, a frozen process) can lose it to another job; staleness compares the holder's clock with the contender's;
 * on object stores without an exclusive create (S3 before conditional writes) two jobs starting in the same moment
 * are not excluded.
 */
public final class HadoopOutputLock implements HeldLock {
    public static final Duration HEARTBEAT = Duration.ofSeconds(30);
    public static final Duration STALE_AFTER = Duration.ofMinutes(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FileSystem fs;
    private final Path file;
    private final String token;
    private final byte[] identity;
    private final Consumer<String> notes;
    private final ScheduledExecutorService heartbeat;
    private volatile boolean lost;

    private HadoopOutputLock(FileSystem fs, Path file, String token, ObjectNode holder, Consumer<String> notes,
                             Duration every) {
        this.fs = fs;
        this.file = file;
        this.token = token;
        this.identity = holder.toString().getBytes(StandardCharsets.UTF_8);
        this.notes = notes;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "output-lock-heartbeat " + file.getName());
            t.setDaemon(true);
            return t;
        });
        long ms = Math.max(1, every.toMillis());
        heartbeat.scheduleWithFixedDelay(this::refresh, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** The lock file that guards {@code directory}: {@code .<name>.lock} in its parent, on the same file system. */
    public static Path lockFileOf(Path directory) {
        Path parent = directory.getParent() == null ? directory : directory.getParent();
        String name = directory.getName().isEmpty() ? "root" : directory.getName();
        return new Path(parent, "." + name + ".lock");
    }

    /** Locks {@code directory} with the default heartbeat and staleness. */
    public static HadoopOutputLock acquire(FileSystem fs, Path directory, String command, Consumer<String> notes) {
        return acquire(fs, directory, command, notes, HEARTBEAT, STALE_AFTER);
    }

    /**
     * @param notes receives a line when a stale lock is taken over, and when a held lock was lost
     * @throws OutputLockedException naming the holder when a live (recently refreshed) job holds it
     */
    public static HadoopOutputLock acquire(FileSystem fs, Path directory, String command, Consumer<String> notes,
                                           Duration heartbeat, Duration staleAfter) {
        Path file = lockFileOf(directory);
        String token = UUID.randomUUID().toString();
        ObjectNode me = JSON.createObjectNode();
        me.put("host", hostName());
        me.put("pid", ProcessHandle.current().pid());
        me.put("command", command);
        me.put("started", Instant.now().toString());
        me.put("token", token);
        try {
            fs.mkdirs(file.getParent());
            for (int attempt = 0; attempt < 3; attempt++) {
                if (createExclusively(fs, file, me)) {
                    return new HadoopOutputLock(fs, file, token, me, notes, heartbeat);
                }
                Holder h = Holder.read(fs, file);
                if (h == null) {
                    continue;   // released between our create and our read: try again
                }
                String stale = h.staleness(staleAfter);
                if (stale == null) {
                    throw new OutputLockedException("output directory " + directory + " is in use by " + h.describe()
                            + " (lock " + file + ", refreshed " + h.ageSeconds() + " s ago; a lock not refreshed for "
                            + staleAfter.toSeconds() + " s is taken over); wait for that job to finish or stop it, "
                            + "or choose another output");
                }
                // the rename is the arbiter: of two jobs taking over the same stale lock, one moves it
                Path aside = new Path(file.getParent(), file.getName() + ".stale-" + token);
                boolean moved;
                try {
                    moved = fs.rename(file, aside);
                } catch (FileNotFoundException e) {
                    moved = false;
                }
                if (moved) {
                    fs.delete(aside, false);
                    notes.accept("note: taking over the stale lock " + file + " of " + h.describe() + ", " + stale
                            + " (its files are cleaned up as a killed run's)");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock output directory " + directory + " (lock file " + file + "): "
                    + e.getMessage(), e);
        }
        throw new OutputLockedException("output directory " + directory + ": another job took the lock " + file
                + " at the same moment; wait for it to finish, or choose another output");
    }

    private static boolean createExclusively(FileSystem fs, Path file, ObjectNode holder) throws IOException {
        ObjectNode first = holder.deepCopy().put("refreshed", System.currentTimeMillis());
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write((first + "\n").getBytes(StandardCharsets.UTF_8));
            out.hsync();
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            // HDFS: the file exists and another client is still writing it
            if (e.getClass().getSimpleName().contains("AlreadyBeingCreated")) {
                return false;
            }
            throw e;
        }
    }

    /** Rewrites the lock with a fresh "refreshed" time, if it is still ours. */
    private void refresh() {
        try {
            Holder h = Holder.read(fs, file);
            if (h == null || h.node == null || !token.equals(h.node.path("token").asText())) {
                if (h == null || h.node != null) {   // gone, or someone else's: ours was taken over
                    lose("it was " + (h == null ? "deleted" : "taken over by " + h.describe()));
                }
                return;   // unreadable: a write is under way; try at the next beat
            }
            ObjectNode again = (ObjectNode) JSON.readTree(identity);
            again.put("refreshed", System.currentTimeMillis());
            try (FSDataOutputStream out = fs.create(file, true)) {
                out.write((again + "\n").getBytes(StandardCharsets.UTF_8));
                out.hsync();
            }
        } catch (IOException | RuntimeException e) {
            // one missed beat is harmless; STALE_AFTER is many beats
        }
    }

    private void lose(String why) {
        if (!lost) {
            heartbeat.shutdown();
            notes.accept("warning: lost the output lock " + file + ": " + why + "; another job may now write the output");
            lost = true;   // after the note: whoever sees lost() sees the note too
        }
    }

    /** Whether the lock was taken over by another job while held (its holder stopped refreshing it in time). */
    public boolean lost() {
        return lost;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        if (lost) {
            return;
        }
        try {
            Holder h = Holder.read(fs, file);
            if (h != null && h.node != null && token.equals(h.node.path("token").asText())) {
                fs.delete(file, false);
            }
        } catch (IOException e) {
            notes.accept("warning: cannot remove the lock " + file + " (" + e.getMessage() + "); the next job takes it "
                    + "over as stale");
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    /** What a lock file says (null node: empty or not JSON, e.g. being written) and when it was last written. */
    private record Holder(JsonNode node, long modified) {
        static Holder read(FileSystem fs, Path file) throws IOException {
            FileStatus st;
            try {
                st = fs.getFileStatus(file);
            } catch (FileNotFoundException e) {
                return null;
            }
            JsonNode node;
            try (InputStream in = fs.open(file)) {
                node = JSON.readTree(in.readAllBytes());
                if (node == null || !node.isObject()) {
                    node = null;
                }
            } catch (FileNotFoundException e) {
                return null;
            } catch (IOException e) {
                node = null;
            }
            return new Holder(node, st.getModificationTime());
        }

        long refreshed() {
            return node != null && node.has("refreshed") ? node.path("refreshed").asLong(modified) : modified;
        }

        long ageSeconds() {
            return Math.max(0, (System.currentTimeMillis() - refreshed()) / 1000);
        }

        /** Why the holder is gone, or null while it may be alive. */
        String staleness(Duration staleAfter) {
            if (node != null && hostName().equals(node.path("host").asText()) && node.has("pid")) {
                long pid = node.path("pid").asLong();
                if (pid == ProcessHandle.current().pid()) {
                    return null;   // this JVM holds it (another job in the same process)
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    return null;
                }
                return "whose process (pid " + pid + " on this host) is no longer running";
            }
            long age = System.currentTimeMillis() - refreshed();
            return age > staleAfter.toMillis() ? "which was not refreshed for " + age / 1000 + " s" : null;
        }

        String describe() {
            if (node == null) {
                return "another job (no holder recorded yet)";
            }
            return node.path("command").asText("a job") + " (pid " + node.path("pid").asText("?") + " on host "
                    + node.path("host").asText("?") + ", started " + node.path("started").asText("?") + ")";
        }
    }
}
