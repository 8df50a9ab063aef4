package ai.chunkwise.childjvm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChildJvmTest {

    /** The child's main: prints what it was given and exits with the code it is asked for. */
    public static final class Echo {
        public static void main(String[] args) {
            System.out.println("probe=" + System.getProperty("childjvm.probe") + " omp=" + System.getenv("OMP_NUM_THREADS"));
            System.exit(Integer.parseInt(args[0]));
        }
    }

    private static List<String> classPathOf(ChildJvm child) {
        List<String> cmd = child.processBuilder().command();
        return List.of(cmd.get(cmd.indexOf("-cp") + 1).split(File.pathSeparator));
    }

    @Test
    void theMainClasssOwnCodeSourceComesFirstAsAnAbsolutePath() throws Exception {
        String first = classPathOf(ChildJvm.of(Echo.class, List.of("0"))).get(0);
        assertTrue(Path.of(first).isAbsolute(), first);
        Path expected = Path.of(Echo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertEquals(expected.toAbsolutePath().normalize().toString(), first);
    }

    @Test
    void runsToTheEndWithTheParentsRunTimePropertyAndOneThreadAndReturnsTheExitCode(@TempDir Path dir) throws Exception {
        System.setProperty("childjvm.probe", "set-at-run-time");
        try {
            Path log = dir.resolve("child.log");
            int code = ChildJvm.of(Echo.class, List.of("7")).inheritingJvmOptions("childjvm.probe").run(log, 120);
            assertEquals(7, code);
            assertEquals("probe=set-at-run-time omp=1", Files.readString(log).strip());
        } finally {
            System.clearProperty("childjvm.probe");
        }
    }

    @Test
    void laterOptionsWinAndDroppedEntriesLeaveTheClassPath(@TempDir Path dir) {
        Path log = dir.resolve("child.log");
        ChildJvm child = ChildJvm.of(Echo.class.getName(), List.of("0"))
                .withJvmOptions(List.of("-Dchildjvm.probe=first", "-Dchildjvm.probe=second"));
        assertEquals(0, child.run(log, 120));
        assertTrue(readQuietly(log).startsWith("probe=second "), readQuietly(log));

        String ownClasses = ChildJvm.codeSource(Echo.class).toString();
        List<String> without = classPathOf(ChildJvm.of(Echo.class.getName(), List.of("0"))
                .withoutClassPathEntries(ownClasses::equals));
        assertFalse(without.contains(ownClasses), without.toString());
        assertTrue(classPathOf(ChildJvm.of(Echo.class.getName(), List.of("0"))).contains(ownClasses));
    }

    private static String readQuietly(Path f) {
        try {
            return Files.readString(f);
        } catch (java.io.IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }
}
