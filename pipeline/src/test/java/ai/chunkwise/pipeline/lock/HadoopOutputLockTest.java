package ai.chunkwise.pipeline.lock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The output lock on a Hadoop file system (issue 20's reliability leftovers), driven through the raw local Hadoop file
 * system, whose {@code create(overwrite=false)} refuses an existing file as HDFS does (train-job's
 * RemoteOutputLockTest runs it on a MiniDFSCluster).
 */
class HadoopOutputLockTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    java.nio.file.Path tmp;

    private FileSystem fs() throws Exception {
        return FileSystem.getLocal(new Configuration()).getRawFileSystem();
    }

    private Path out() {
        return new Path(tmp.resolve("out").toUri());
    }

    private void writeLock(String json) throws Exception {
        Files.writeString(tmp.resolve(".out.lock"), json);
    }

    private static String host() throws Exception {
        return InetAddress.getLocalHost().getHostName();
    }

    @Test
    void aSecondJobIsRefusedNamingTheHolderAndTheLockIsGoneAfterRelease() throws Exception {
        try (HadoopOutputLock held = HadoopOutputLock.acquire(fs(), out(), "tokenize-job", n -> { })) {
            assertEquals(tmp.resolve(".out.lock").toUri().getPath(), held.file().toUri().getPath());
            JsonNode holder = JSON.readTree(tmp.resolve(".out.lock").toFile());
            assertEquals(ProcessHandle.current().pid(), holder.get("pid").asLong());
            assertEquals("tokenize-job", holder.get("command").asText());
            OutputLockedException e = assertThrows(OutputLockedException.class,
                    () -> HadoopOutputLock.acquire(fs(), out(), "train", n -> { }));
            assertTrue(e.getMessage().startsWith("output directory " + out() + " is in use by tokenize-job (pid "
                    + ProcessHandle.current().pid() + " on host " + host()), e.getMessage());
            assertTrue(e.getMessage().contains("a lock not refreshed for 300 s is taken over"), e.getMessage());
        }
        assertFalse(Files.exists(tmp.resolve(".out.lock")), "released: removed (exclusion is by the file's existence)");
        HadoopOutputLock.acquire(fs(), out(), "train", n -> { }).close();
    }

    @Test
    void aLockOfADeadProcessOnThisHostIsTakenOverAtOnceWithANote() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        writeLock("{\"host\":\"" + host() + "\",\"pid\":" + gone.pid() + ",\"command\":\"train\",\"started\":\"x\","
                + "\"token\":\"t\",\"refreshed\":" + System.currentTimeMillis() + "}");
        List<String> notes = new ArrayList<>();
        try (HadoopOutputLock l = HadoopOutputLock.acquire(fs(), out(), "tokenize-job", notes::add)) {
            assertEquals(1, notes.size(), notes.toString());
            assertTrue(notes.get(0).startsWith("note: taking over the stale lock ") && notes.get(0).contains(
                    "of train (pid " + gone.pid() + " on host " + host() + ", started x), whose process (pid "
                            + gone.pid() + " on this host) is no longer running"), notes.get(0));
            assertEquals(ProcessHandle.current().pid(), JSON.readTree(tmp.resolve(".out.lock").toFile()).get("pid").asLong());
        }
    }

    @Test
    void aLockOfAnotherHostIsStaleOnlyWhenNotRefreshedInTime() throws Exception {
        long now = System.currentTimeMillis();
        writeLock("{\"host\":\"elsewhere\",\"pid\":1,\"command\":\"train\",\"started\":\"x\",\"token\":\"t\","
                + "\"refreshed\":" + (now - 60_000) + "}");
        OutputLockedException e = assertThrows(OutputLockedException.class,
                () -> HadoopOutputLock.acquire(fs(), out(), "train", n -> { }));
        assertTrue(e.getMessage().contains("in use by train (pid 1 on host elsewhere") && e.getMessage().matches(
                ".*refreshed 6\\d s ago.*"), e.getMessage());
        writeLock("{\"host\":\"elsewhere\",\"pid\":1,\"command\":\"train\",\"started\":\"x\",\"token\":\"t\","
                + "\"refreshed\":" + (now - 301_000) + "}");
        List<String> notes = new ArrayList<>();
        HadoopOutputLock.acquire(fs(), out(), "train", notes::add).close();
        assertTrue(notes.get(0).matches(".*which was not refreshed for 30\\d s.*"), notes.toString());
    }

    @Test
    void theHolderRefreshesItsLockAndNoticesWhenItWasTakenOver() throws Exception {
        List<String> notes = new ArrayList<>();
        try (HadoopOutputLock l = HadoopOutputLock.acquire(fs(), out(), "train", notes::add, Duration.ofMillis(50),
                Duration.ofMinutes(5))) {
            long first = JSON.readTree(tmp.resolve(".out.lock").toFile()).get("refreshed").asLong();
            long deadline = System.currentTimeMillis() + 10_000;
            long refreshed = first;
            while (refreshed == first && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
                try {
                    refreshed = JSON.readTree(tmp.resolve(".out.lock").toFile()).path("refreshed").asLong(first);
                } catch (java.io.IOException partial) {
                    // read while the holder rewrote it
                }
            }
            assertTrue(refreshed > first, "the heartbeat rewrote the refresh time");
            // another job took it over (the holder looked dead to it): the holder notices and stops refreshing
            writeLock("{\"host\":\"elsewhere\",\"pid\":2,\"command\":\"train\",\"started\":\"y\",\"token\":\"other\","
                    + "\"refreshed\":" + System.currentTimeMillis() + "}");
            while (!l.lost() && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(l.lost());
            assertTrue(notes.get(notes.size() - 1).startsWith("warning: lost the output lock "), notes.toString());
        }
        assertTrue(Files.readString(tmp.resolve(".out.lock")).contains("\"token\":\"other\""),
                "a lost lock is not removed: it is the other job's now");
    }
}
