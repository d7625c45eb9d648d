import { installRuntime } from '../../workers/runtime';

// Worker logs at ERROR in tests: expected failures are not news.
installRuntime('ERROR');
