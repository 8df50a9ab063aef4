package ai.chunkwise.train.backend;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/** Makes the tests run on the native build the jar's launcher would pick (registered in META-INF/services). */
public final class CpuBuildSelection implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        CpuBuild.select();
    }
}
