package ai.chunkwise.pipeline.lock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputLockTest {

    @Test
    void aSecondHolderIsRefusedWithTheFirstOnesHostPidAndStartTime(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        try (OutputLock first = OutputLock.acquire(out, "train", n -> { })) {
            OutputLockedException e = assertThrows(OutputLockedException.class,
                    () -> OutputLock.acquire(out, "train", n -> { }));
            String m = e.getMessage();
            assertTrue(m.contains("pid " + ProcessHandle.current().pid()), m);
            assertTrue(m.contains("host " + InetAddress.getLocalHost().getHostName()), m);
            assertTrue(m.matches("(?s).*started \\d{4}-\\d\\d-\\d\\dT.*"), m);
            assertTrue(m.contains(out.toString()) && m.contains(first.file().toString()), m);
        }
        // released: the next job gets it, with no stale-holder note (the file was emptied on release)
        List<String> notes = new ArrayList<>();
        try (OutputLock again = OutputLock.acquire(out, "train", notes::add)) {
            assertEquals(List.of(), notes);
        }
    }

    @Test
    void aStaleLockOfADeadProcessIsTakenOverWithANote(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Files.writeString(OutputLock.lockFileOf(out),
                "{\"host\":\"gone-host\",\"pid\":999999,\"command\":\"train\",\"started\":\"2026-01-01T00:00:00Z\"}\n");
        List<String> notes = new ArrayList<>();
        try (OutputLock lock = OutputLock.acquire(out, "train", notes::add)) {
            assertEquals(1, notes.size());
            assertTrue(notes.get(0).contains("stale") && notes.get(0).contains("999999") && notes.get(0).contains("gone-host"),
                    notes.get(0));
            assertTrue(Files.readString(lock.file()).contains("\"pid\":" + ProcessHandle.current().pid()));
        }
    }

    @Test
    void onlyLocalFileSystemsAreLocked(@TempDir Path tmp) throws Exception {
        assertNull(OutputLock.acquireIfLocal(java.net.URI.create("hdfs://nn:8020/data/x"), "tokenize-job", n -> { }));
        try (OutputLock l = OutputLock.acquireIfLocal(tmp.resolve("x").toUri(), "tokenize-job", n -> { })) {
            assertTrue(Files.isRegularFile(l.file()));
        }
    }
}
