// The page's entry point (index.html loads it): build the app into #app and connect.

import './styles.css';
import { App } from './app/app.js';

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
const app = new App(root);
void app.start();
