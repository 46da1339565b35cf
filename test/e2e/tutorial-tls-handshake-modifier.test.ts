import { describeTutorial } from './tutorial-suite.js';

describeTutorial('tls-handshake-modifier');
