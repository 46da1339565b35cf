import { describeTutorial } from './tutorial-suite.js';

describeTutorial('mtls-auth');
