import { installRuntime } from '../../workers/runtime';

// Worker logs at PROOFLANE_LOG_LEVEL (ERROR in tests: expected failures are not news).
installRuntime();
