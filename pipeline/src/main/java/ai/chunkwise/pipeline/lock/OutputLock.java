package ai.chunkwise.pipeline.lock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * An exclusive lock on an output directory, so that two jobs never write into one: an operating-system file lock
 * ({@link FileChannel#tryLock()}) on {@code .<name>.lock} next to the directory, holding the holder's host, pid,
 * command and start time for the message the second job prints. The operating system releases the lock when its
 * process dies, however it dies, so a lock file whose lock can be taken is stale (its holder is gone) and is taken
 * over with a note. The file itself is left in place on release: deleting it would let a third process lock a file
 * that is no longer the one a fourth process opens.
 *
 * <p>Local file systems only: Hadoop file systems have no such lock; {@link #acquire(org.apache.hadoop.fs.Path,
 * org.apache.hadoop.conf.Configuration, String, Consumer)} takes a {@link HadoopOutputLock} there (see
 * docs/reliability.md).
 */
public final class OutputLock implements HeldLock {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FileChannel channel;
    private final FileLock lock;
    private final Path file;

    private OutputLock(FileChannel channel, FileLock lock, Path file) {
        this.channel = channel;
        this.lock = lock;
        this.file = file;
    }

    /** The lock file that guards {@code directory}: {@code .<name>.lock} in its parent. */
    public static Path lockFileOf(Path directory) {
        Path abs = directory.toAbsolutePath().normalize();
        Path parent = abs.getParent() == null ? abs : abs.getParent();
        String name = abs.getFileName() == null ? "root" : abs.getFileName().toString();
        return parent.resolve("." + name + ".lock");
    }

    /**
     * Locks {@code directory} for {@code command}.
     *
     * @param notes receives a line when a stale lock (of a process that is gone) is taken over
     * @throws OutputLockedException naming the holder when another live process holds it
     */
    public static OutputLock acquire(Path directory, String command, Consumer<String> notes) {
        Path file = lockFileOf(directory);
        try {
            Files.createDirectories(file.getParent());
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;   // held by this very JVM (another job in the same process)
            }
            if (l == null) {
                String holder = describe(readHolder(ch));
                ch.close();
                throw new OutputLockedException("output directory " + directory + " is in use by " + holder
                        + " (lock " + file + "); wait for that job to finish or stop it, or choose another output");
            }
            JsonNode previous = readHolder(ch);
            if (previous != null && previous.has("pid")) {
                notes.accept("note: taking over the stale lock " + file + " of " + describe(previous)
                        + ", which is no longer running (its files are cleaned up as a killed run's)");
            }
            ObjectNode me = JSON.createObjectNode();
            me.put("host", hostName());
            me.put("pid", ProcessHandle.current().pid());
            me.put("command", command);
            me.put("started", Instant.now().toString());
            byte[] bytes = (me.toString() + "\n").getBytes(StandardCharsets.UTF_8);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(bytes), 0);
            ch.force(true);
            return new OutputLock(ch, l, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock output directory " + directory + " (lock file " + file + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * Locks {@code directory} if it lies on the local file system (a {@code file:} URI or one without a scheme);
     * returns null (nothing to release; try-with-resources accepts it) for any other file system.
     */
    public static OutputLock acquireIfLocal(URI directory, String command, Consumer<String> notes) {
        if (directory.getScheme() == null) {
            return acquire(Path.of(directory.getPath()), command, notes);
        }
        if ("file".equals(directory.getScheme())) {
            return acquire(Path.of(directory), command, notes);
        }
        return null;
    }

    /**
     * Locks {@code directory} on whatever file system it lies: this operating-system lock on the local one, a
     * {@link HadoopOutputLock} (exclusive create, heartbeat, stale takeover) on any other Hadoop file system.
     *
     * @param directory a qualified Hadoop path (with its scheme)
     */
    public static HeldLock acquire(org.apache.hadoop.fs.Path directory, org.apache.hadoop.conf.Configuration conf,
                                   String command, Consumer<String> notes) {
        URI uri = directory.toUri();
        if (uri.getScheme() == null || "file".equals(uri.getScheme())) {
            return acquireIfLocal(uri, command, notes);
        }
        try {
            return HadoopOutputLock.acquire(directory.getFileSystem(conf), directory, command, notes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the file system of " + directory + " to lock it: "
                    + e.getMessage(), e);
        }
    }

    private static JsonNode readHolder(FileChannel ch) throws IOException {
        long size = ch.size();
        if (size == 0 || size > 65536) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        ch.read(b, 0);
        try {
            return JSON.readTree(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }

    private static String describe(JsonNode holder) {
        if (holder == null) {
            return "another process (no holder recorded yet)";
        }
        return holder.path("command").asText("a job") + " (pid " + holder.path("pid").asText("?") + " on host "
                + holder.path("host").asText("?") + ", started " + holder.path("started").asText("?") + ")";
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        try {
            // an empty file means "free": the next job does not report a stale holder
            channel.truncate(0);
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release lock " + file + ": " + e.getMessage(), e);
        }
    }
}
